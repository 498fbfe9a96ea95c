import { describe, expect, it } from 'vitest';
import { parseChannelConfigs } from '../../config/channel-schema.js';
import { PermanentDeliveryError, TransientDeliveryError } from '../errors.js';
import { emailChannel, emailDevelopmentSettings, smtpDeliveryError, smtpRelays } from './index.js';

describe('email relays (EMAIL_SMTP_URLS)', () => {
  it('defaults to the one relay of EMAIL_HOST / EMAIL_PORT', () => {
    expect(smtpRelays(emailChannel.configSchema.parse({}))).toEqual([{ host: '127.0.0.1', port: 2525, secure: false }]);
  });

  it('reads an ordered list of smtp:// and smtps:// URLs with URL-encoded credentials and default ports', () => {
    const config = emailChannel.configSchema.parse({
      smtpUrls: 'smtp://relay-a.example.com, smtps://ada%40acme:p%2Css@relay-b.example.com ,smtp://[::1]:2526',
    });
    expect(smtpRelays(config)).toEqual([
      { host: 'relay-a.example.com', port: 587, secure: false },
      { host: 'relay-b.example.com', port: 465, secure: true, user: 'ada@acme', pass: 'p,ss' },
      { host: '::1', port: 2526, secure: false },
    ]);
  });

  it('names the variable and the entry for a bad URL without quoting it (it may hold a password)', () => {
    const { issues } = parseChannelConfigs({
      EMAIL_SMTP_URLS: 'smtp://ok.example.com,https://user:secret@x.example.com',
    });
    expect(issues).toEqual([expect.stringMatching(/^EMAIL_SMTP_URLS: entry 2 of the list has the scheme https:/)]);
    expect(issues.join('')).not.toContain('secret');
    const twice = parseChannelConfigs({ EMAIL_SMTP_URLS: 'smtp://a.example.com:25,smtp://a.example.com:25' });
    expect(twice.issues).toEqual([expect.stringMatching(/relay a\.example\.com:25 is listed twice/)]);
  });

  it('flags dev-sink relays as development settings', () => {
    const config = emailChannel.configSchema.parse({ smtpUrls: 'smtp://127.0.0.1:2525,smtp://127.0.0.1:2526' });
    expect(emailDevelopmentSettings(config).map((s) => s.key)).toContain('smtpUrls');
  });
});

describe('SMTP failure classification for failover', () => {
  const endpoint = 'SMTP server relay-a:587';
  it('treats rejected credentials, an authentication demand and a TLS failure as the relay’s fault', () => {
    for (const failure of [
      { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication credentials invalid' },
      { code: 'EENVELOPE', responseCode: 530, response: '530 5.7.0 Authentication required' },
      { code: 'ETLS', message: 'unable to verify the first certificate' },
    ]) {
      const err = smtpDeliveryError(failure, endpoint);
      expect(err, JSON.stringify(failure)).toBeInstanceOf(PermanentDeliveryError);
      expect((err as PermanentDeliveryError).fault, JSON.stringify(failure)).toBe('provider');
    }
  });

  it('treats a rejected mailbox as a request error (no failover) and a 4xx as transient', () => {
    const bounced = smtpDeliveryError(
      { code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 no such user' },
      endpoint,
    );
    expect(bounced).toBeInstanceOf(PermanentDeliveryError);
    expect((bounced as PermanentDeliveryError).fault).toBe('request');
    expect(smtpDeliveryError({ responseCode: 421, response: '421 try later' }, endpoint)).toBeInstanceOf(
      TransientDeliveryError,
    );
  });
});
