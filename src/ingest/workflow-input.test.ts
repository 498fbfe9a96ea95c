import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { encodeEnvelope, EVENTS_NONE, hashRequest, HEADERS } from '../kafka/envelope.js';
import type { NotificationEnvelope } from '../kafka/envelope.js';
import { ENVELOPE_VERSION } from '../shared/notification.js';
import type { NotificationRequest } from '../shared/notification.js';
import { recordHints } from './ingest-consumer.js';
import { buildWorkflowInput } from './workflow-input.js';

const request = {
  routing: 'all',
  deliveries: [{ channel: 'sms', to: '+15551234567', content: { body: 'hi' } }],
} as unknown as NotificationRequest;
const envelope: NotificationEnvelope = {
  v: ENVELOPE_VERSION,
  id: 'n-1',
  clientId: 'c-1',
  acceptedAt: new Date(0).toISOString(),
  bodyHash: hashRequest(request),
  request,
};

describe('delivery events decided at acceptance', () => {
  it('marks the record of a client without an enabled endpoint, and only that one', () => {
    expect(encodeEnvelope(envelope, undefined, undefined, undefined, { withoutEvents: true }).headers).toMatchObject({
      [HEADERS.events]: EVENTS_NONE,
    });
    expect(encodeEnvelope(envelope).headers).not.toHaveProperty(HEADERS.events);
  });

  it('reads the mark from the record headers as Kafka hands them over (buffers), and nothing from records without it', () => {
    expect(recordHints({ [HEADERS.events]: Buffer.from(EVENTS_NONE) })).toEqual({ withoutEvents: true });
    expect(recordHints({ [HEADERS.events]: 'something-else' })).toEqual({ withoutEvents: false });
    expect(recordHints({})).toEqual({ withoutEvents: false });
    expect(recordHints(undefined)).toEqual({ withoutEvents: false });
  });

  it('starts the workflow with events unless the gateway found no endpoint or events are off', () => {
    const on = loadConfig({ WEBHOOK_EVENTS_ENABLED: 'true' });
    const off = loadConfig({ WEBHOOK_EVENTS_ENABLED: 'false' });
    expect(buildWorkflowInput(envelope, on).events).toBe(true);
    expect(buildWorkflowInput(envelope, on, { withoutEvents: false }).events).toBe(true);
    expect(buildWorkflowInput(envelope, on, { withoutEvents: true })).not.toHaveProperty('events');
    expect(buildWorkflowInput(envelope, off)).not.toHaveProperty('events');
  });
});
