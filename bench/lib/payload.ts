import { newNotificationId } from '../../src/api/ids.js';
import { encodeEnvelope, hashRequest } from '../../src/kafka/envelope.js';
import type { NotificationEnvelope } from '../../src/kafka/envelope.js';
import { ENVELOPE_VERSION } from '../../src/shared/notification.js';
import type { NotificationRequest } from '../../src/shared/notification.js';

/**
 * The benchmark's notification: one SMS (a Twilio-compatible HTTP call to the dev sink), the cheapest real
 * delivery, so the figures show the pipeline rather than a provider protocol.
 */
export function benchRequest(i: number): NotificationRequest {
  const phone = `+1415555${String(i % 10_000).padStart(4, '0')}`;
  return { routing: 'all', deliveries: [{ channel: 'sms', to: phone, content: { body: `bench message ${i}` } }] };
}

/** JSON body of `POST /v1/notifications` for request `i`. */
export function benchRequestJson(i: number): string {
  return JSON.stringify(benchRequest(i));
}

/** An envelope exactly like the gateway writes it (fresh id), for pre-filling topics and bare baselines. */
export function benchEnvelope(i: number): NotificationEnvelope {
  const request = benchRequest(i);
  return {
    v: ENVELOPE_VERSION,
    id: newNotificationId(),
    clientId: 'bench',
    acceptedAt: new Date().toISOString(),
    bodyHash: hashRequest(request),
    request,
  };
}

/** The Kafka message of {@link benchEnvelope}. */
export function benchRecord(i: number): ReturnType<typeof encodeEnvelope> {
  return encodeEnvelope(benchEnvelope(i));
}
