import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { temporalLogAdapter } from '../workers/install-runtime.js';
import { createLogger, scrubText } from './create-logger.js';

/** Free-text redaction: provider error texts quote recipients, and they reach logs inside error messages. */
function capture() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    component: 'test',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}

const REJECTION = '550 5.1.1 <ada.lovelace@example.com>: Recipient address rejected: mailbox unavailable';

describe('log redaction of free text', () => {
  it('replaces email addresses and phone numbers in text, leaving the rest readable', () => {
    expect(scrubText(REJECTION)).toBe('550 5.1.1 <[redacted email]>: Recipient address rejected: mailbox unavailable');
    expect(scrubText('Twilio: The number +1 415-555-0123 is unverified (code 21608)')).toBe(
      'Twilio: The number [redacted phone] is unverified (code 21608)',
    );
    expect(scrubText('ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f timed out after 3000 ms')).toBe(
      'ntf_0193b3c2a1b27c3d8e9f0a1b2c3d4e5f timed out after 3000 ms',
    );
  });

  it('scrubs err objects, Error messages, stacks and causes in every log line', () => {
    const { logger, lines } = capture();
    logger.warn(
      { err: { type: 'PermanentDeliveryError', message: `smtp replied 550: ${REJECTION}`, code: 550 } },
      'delivery attempt failed',
    );
    logger.error(
      { err: new Error(`wrapped: ${REJECTION}`, { cause: new Error('inner +14155550123') }) },
      'unhandled error',
    );
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain('ada.lovelace@example.com');
      expect(line).not.toContain('+14155550123');
    }
    expect(lines[0]).toContain('[redacted email]');
    expect(JSON.parse(lines[1]!)).toMatchObject({
      err: { message: expect.stringContaining('[redacted email]') as unknown },
    });
  });

  it('scrubs the error of the Temporal SDK’s "Activity failed" line', () => {
    const { logger, lines } = capture();
    const failure = ApplicationFailure.create({
      message: `smtp 127.0.0.1:2525 replied 550: ${REJECTION}`,
      type: 'PermanentDeliveryError',
      nonRetryable: true,
    });
    temporalLogAdapter(logger).warn('Activity failed', { error: failure, durationMs: 12, activityType: 'deliver' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('ada.lovelace@example.com');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      msg: 'Activity failed',
      component: 'temporal-sdk',
      error: { message: expect.stringContaining('[redacted email]') as unknown },
    });
  });
});
