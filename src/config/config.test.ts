import { describe, expect, it } from 'vitest';
import { emailChannel } from '../channels/email/index.js';
import { appSchema } from './app-schema.js';
import { channelCommonSchema } from './channel-schema.js';
import { ConfigError, knownEnvVars, loadConfig } from './config.js';
import { devInfraSchema } from './dev-infra-schema.js';

describe('loadConfig', () => {
  it('parses every boolean setting with the same words, case-insensitively', () => {
    for (const [word, value] of [
      ['true', true],
      ['YES', true],
      ['1', true],
      ['On', true],
      ['false', false],
      ['no', false],
      ['0', false],
      ['OFF', false],
    ] as const) {
      const config = loadConfig({ KAFKA_SSL: word, AUTH_DISABLED: word, EMAIL_SECURE: word });
      expect([config.KAFKA_SSL, config.AUTH_DISABLED, config.channels.email?.settings.secure]).toEqual([
        value,
        value,
        value,
      ]);
    }
  });

  it('rejects a boolean word it does not know, naming the variable and the accepted words', () => {
    expect(() => loadConfig({ AUTH_DISABLED: 'nah', EMAIL_SECURE: 'maybe' })).toThrow(ConfigError);
    try {
      loadConfig({ AUTH_DISABLED: 'nah', EMAIL_SECURE: 'maybe' });
    } catch (err) {
      expect((err as ConfigError).issues).toEqual([
        'AUTH_DISABLED: must be true or false (also 1/0, yes/no, on/off)',
        'EMAIL_SECURE: must be true or false (also 1/0, yes/no, on/off)',
      ]);
    }
  });

  it('reads channel settings from <CHANNEL>_<KEY>, common ones included, into the channel entry', () => {
    const config = loadConfig({ SMS_RETRY_MAX_ATTEMPTS: '3', SMS_CONCURRENCY: '7', SMS_FROM: '+15005550006' });
    expect(config.channels.sms?.retry.maximumAttempts).toBe(3);
    expect(config.channels.sms?.concurrency).toBe(7);
    expect(config.channels.sms?.settings.from).toBe('+15005550006');
    expect(() => loadConfig({ SMS_RETRY_MAX_ATTEMPTS: '0' })).toThrow(/SMS_RETRY_MAX_ATTEMPTS/);
  });

  it('keeps application, channel and dev-infrastructure settings in separate schemas that together are every variable', () => {
    const app = Object.keys(appSchema.shape);
    const infra = Object.keys(devInfraSchema.shape);
    expect(app.filter((k) => infra.includes(k))).toEqual([]);
    expect(infra).toContain('KAFKA_PORT');
    expect(app).not.toContain('KAFKA_PORT');
    const known = knownEnvVars();
    for (const name of [
      ...app,
      ...infra,
      'EMAIL_HOST',
      ...Object.keys(channelCommonSchema.shape).map((k) => `EMAIL_${k}`),
    ])
      expect(known).toContain(name);
    expect(Object.keys(emailChannel.configSchema.shape)).toContain('host');
  });
});
