import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatePayloadKeyEntry } from '../crypto/keyring.js';
import { assertProductionChannelSettings, ConfigError, developmentChannelSettings, loadConfig } from './config.js';

/** Production refuses development channel settings, as it refuses a missing PAYLOAD_KEYS: naming each setting and the fix. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ALL = ['email', 'sms', 'slack', 'webhook'];

/** Settings of real providers: what a production deployment sets. */
const realProviders = {
  EMAIL_HOST: 'smtp.acme.example',
  EMAIL_PORT: '587',
  EMAIL_FROM: 'Acme <notify@acme.example>',
  EMAIL_MESSAGE_ID_DOMAIN: 'mail.acme.example',
  SMS_BASE_URL: 'https://api.twilio.com',
  SMS_ACCOUNT_SID: `AC${'1f'.repeat(16)}`,
  SMS_AUTH_TOKEN: 'a-real-twilio-token',
  SMS_FROM: '+14155550123',
  SLACK_BOT_TOKEN: 'xoxb-123-456-abc',
  SLACK_API_URL: 'https://slack.com/api',
  WEBHOOK_SIGNING_SECRET: 'whsec_cmVhbC1wcm9kdWN0aW9uLXNlY3JldC0xMjM0NTY=',
};

describe('channel settings in production', () => {
  it('refuses the development defaults, naming each setting and the command that makes a webhook secret', () => {
    const config = loadConfig({ NOTIFY_ENV: 'production' });
    let message = '';
    try {
      assertProductionChannelSettings(config, ALL);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of [
      'EMAIL_HOST',
      'EMAIL_FROM',
      'EMAIL_MESSAGE_ID_DOMAIN',
      'SMS_BASE_URL',
      'SMS_ACCOUNT_SID',
      'SMS_AUTH_TOKEN',
      'SMS_FROM',
      'SLACK_BOT_TOKEN',
      'SLACK_API_URL',
      'WEBHOOK_SIGNING_SECRET',
    ]) {
      expect(message, name).toMatch(new RegExp(`^  - ${name}: `, 'm'));
    }
    expect(message).toContain('npm run keys -- webhook-secret');
    expect(message).toContain('DISABLED_CHANNELS');
  });

  it('refuses the compose-style dev sink settings (host "sinks") as well', () => {
    const config = loadConfig({
      NOTIFY_ENV: 'production',
      ...realProviders,
      EMAIL_HOST: 'sinks',
      EMAIL_PORT: '2525',
      SMS_BASE_URL: 'http://sinks:4010',
      SLACK_API_URL: 'http://sinks:4010/slack/api',
    });
    expect(developmentChannelSettings(config, ALL).map((i) => i.split(':')[0])).toEqual([
      'EMAIL_HOST',
      'SMS_BASE_URL',
      'SLACK_API_URL',
    ]);
  });

  it('starts with real provider settings, and in development with the defaults', () => {
    expect(() =>
      assertProductionChannelSettings(loadConfig({ NOTIFY_ENV: 'production', ...realProviders }), ALL),
    ).not.toThrow();
    expect(() => assertProductionChannelSettings(loadConfig({}), ALL)).not.toThrow();
  });

  it('checks only the channels a worker serves, and skips channels listed in DISABLED_CHANNELS', () => {
    const config = loadConfig({ NOTIFY_ENV: 'production', ...realProviders, SMS_AUTH_TOKEN: 'dev-auth-token' });
    expect(() => assertProductionChannelSettings(config, ['email', 'slack', 'webhook'])).not.toThrow();
    expect(() => assertProductionChannelSettings(config, ['sms'])).toThrow(/SMS_AUTH_TOKEN/);
    const disabled = loadConfig({
      NOTIFY_ENV: 'production',
      ...realProviders,
      SMS_AUTH_TOKEN: 'dev-auth-token',
      DISABLED_CHANNELS: 'sms',
    });
    expect(() => assertProductionChannelSettings(disabled, ALL)).not.toThrow();
  });

  it('rejects an unknown channel in DISABLED_CHANNELS, naming the known ones', () => {
    expect(() => loadConfig({ DISABLED_CHANNELS: 'sms,pigeon' })).toThrow(ConfigError);
    expect(() => loadConfig({ DISABLED_CHANNELS: 'pigeon' })).toThrow(
      /DISABLED_CHANNELS: unknown channel\(s\) pigeon; known: email, sms, slack, webhook/,
    );
  });

  it('a production webhook worker with the development secret exits before connecting, naming the setting and the fix', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NOTIFY_ENV: 'production',
      PAYLOAD_KEYS: generatePayloadKeyEntry('p1'),
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
    };
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/workers/main.ts', '--channels', 'webhook'], {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/WEBHOOK_SIGNING_SECRET: is the development secret/);
    expect(result.output).toContain('npm run keys -- webhook-secret');
  }, 60_000);
});
