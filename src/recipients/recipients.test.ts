import { describe, expect, it } from 'vitest';
import { PermanentDeliveryError } from '../channels/errors.js';
import { addressKeys, isAddressFailure, withoutSuppressed } from './addresses.js';
import { acceptsDelivery } from './preferences.js';
import { isValidTimeZone, quietUntil } from './quiet-hours.js';

const defaults = { optInCategories: ['marketing'], urgentCategories: ['urgent'] };

describe('quiet hours', () => {
  it("holds until the window ends when it spans midnight, in the recipient's time zone", () => {
    // 23:30 in Paris (UTC+1 in winter) is 22:30Z; the 22:00–07:00 window ends at 07:00 Paris = 06:00Z.
    const until = quietUntil({ start: '22:00', end: '07:00' }, 'Europe/Paris', new Date('2026-01-15T22:30:00Z'));
    expect(until?.toISOString()).toBe('2026-01-16T06:00:00.000Z');
  });

  it('does not hold outside the window, at its end, or for an empty window', () => {
    expect(
      quietUntil({ start: '22:00', end: '07:00' }, 'Europe/Paris', new Date('2026-01-15T12:00:00Z')),
    ).toBeUndefined();
    expect(quietUntil({ start: '22:00', end: '07:00' }, 'UTC', new Date('2026-01-15T07:00:00Z'))).toBeUndefined();
    expect(quietUntil({ start: '09:00', end: '09:00' }, 'UTC', new Date('2026-01-15T09:00:00Z'))).toBeUndefined();
  });

  it('holds inside a same-day window with second precision', () => {
    expect(
      quietUntil(
        { start: '12:00:00', end: '12:00:30' },
        undefined,
        new Date('2026-01-15T12:00:10.500Z'),
      )?.toISOString(),
    ).toBe('2026-01-15T12:00:30.000Z');
  });

  it('knows IANA zones and rejects made-up ones', () => {
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('preferences', () => {
  it('lets the most specific setting win: category + channel over category over channel', () => {
    const prefs = {
      channels: { sms: false },
      categories: { billing: { channels: { sms: true } }, news: { enabled: false } },
    };
    expect(acceptsDelivery(prefs, 'sms', 'billing', defaults)).toBe(true);
    expect(acceptsDelivery(prefs, 'sms', 'alerts', defaults)).toBe(false);
    expect(acceptsDelivery(prefs, 'email', 'news', defaults)).toBe(false);
    expect(acceptsDelivery(prefs, 'email', undefined, defaults)).toBe(true);
  });

  it('keeps opt-in categories off until the recipient opts in', () => {
    expect(acceptsDelivery({}, 'email', 'marketing', defaults)).toBe(false);
    expect(acceptsDelivery({ categories: { marketing: { enabled: true } } }, 'email', 'marketing', defaults)).toBe(
      true,
    );
  });
});

describe('addresses', () => {
  it('normalises addresses per channel and drops suppressed entries of an email list', () => {
    expect(addressKeys('email', [' Ada@Example.com', 'b@example.com'])).toEqual(['ada@example.com', 'b@example.com']);
    expect(addressKeys('webhook', { url: 'https://example.com/h' })).toEqual(['https://example.com/h']);
    expect(addressKeys('slack', { channel: '#ops' })).toEqual(['#ops']);
    expect(withoutSuppressed('email', ['ada@example.com', 'b@example.com'], new Set(['ada@example.com']))).toEqual([
      'b@example.com',
    ]);
    expect(withoutSuppressed('email', 'ada@example.com', new Set(['ada@example.com']))).toBeUndefined();
  });

  it('treats hard bounces, unknown Slack channels and gone webhook endpoints as address failures, not other permanent errors', () => {
    expect(isAddressFailure('email', new PermanentDeliveryError('replied 550', { code: 550 }))).toBe(true);
    expect(isAddressFailure('email', new PermanentDeliveryError('rejected the login'))).toBe(false);
    expect(
      isAddressFailure(
        'slack',
        new PermanentDeliveryError('chat.postMessage: channel_not_found; check the channel id'),
      ),
    ).toBe(true);
    expect(isAddressFailure('webhook', new PermanentDeliveryError('answered 410', { code: 410 }))).toBe(true);
    expect(isAddressFailure('webhook', new PermanentDeliveryError('answered 400', { code: 400 }))).toBe(false);
  });
});
