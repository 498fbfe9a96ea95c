import type { z } from 'zod';
import { parsePayloadKeys } from '../crypto/keyring.js';
import { appSchema } from './app-schema.js';
import { channelRegistry } from '../channels/registry.js';
import { channelEnvVars, formatIssues, parseChannelConfigs, toEnvKey } from './channel-schema.js';
import type { ChannelRuntimeConfig } from './channel-schema.js';
import { devInfraSchema } from './dev-infra-schema.js';
import type { EventRetryPolicy } from '../shared/events.js';

/**
 * The one place that reads the environment. Every entry point calls `loadConfig()` once at start-up and passes
 * the parsed, typed result down; no other module touches `process.env`.
 *
 * Variable names are documented in the README ("Configuration"). Invalid values fail start-up with a message
 * naming each variable at fault.
 *
 * Three schemas, parsed together: the application's (`app-schema.ts`), the channels' (`channel-schema.ts`: common
 * settings plus each channel's `configSchema`) and the embedded development infrastructure's (`dev-infra-schema.ts`).
 */

const baseSchema = appSchema.extend(devInfraSchema.shape);

/** Application and dev-infrastructure settings (everything but the channels). */
export type BaseConfig = z.infer<typeof baseSchema>;

/** The application's configuration: base settings plus one entry per registered channel. */
export interface AppConfig extends BaseConfig {
  channels: Record<string, ChannelRuntimeConfig>;
}

export type { ChannelRuntimeConfig };
export { toEnvKey } from './channel-schema.js';

/** Thrown when the environment holds invalid settings; the message names every variable at fault. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses configuration from an environment map (default: `process.env`).
 * Empty strings count as unset, so `FOO=` in a compose file falls back to the default.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const issues: string[] = [];
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const base = baseSchema.safeParse(cleaned);
  if (!base.success) issues.push(...formatIssues(base.error, (p) => String(p[0])));

  const parsedChannels = parseChannelConfigs(env);
  issues.push(...parsedChannels.issues);
  const channels = parsedChannels.channels;
  if (base.success) issues.push(...payloadKeyIssues(base.data));
  if (base.success) {
    const unknown = (base.data.DISABLED_CHANNELS ?? []).filter((c) => !channelRegistry.some((r) => r.name === c));
    if (unknown.length > 0)
      issues.push(
        `DISABLED_CHANNELS: unknown channel(s) ${unknown.join(', ')}; known: ${channelRegistry.map((c) => c.name).join(', ')}`,
      );
  }
  if (issues.length > 0 || !base.success) throw new ConfigError(issues);
  return { ...base.data, channels };
}

/**
 * Each setting of `channels` that still holds a development value (the dev sinks, their credentials, the published
 * webhook secret), as `VARIABLE: problem and fix` lines. Disabled channels are skipped.
 */
export function developmentChannelSettings(config: AppConfig, channels: readonly string[]): string[] {
  const disabled = new Set(config.DISABLED_CHANNELS ?? []);
  const issues: string[] = [];
  for (const name of channels) {
    const channel = channelRegistry.find((c) => c.name === name) as
      { developmentSettings?: (settings: never) => Array<{ key: string; problem: string }> } | undefined;
    const settings = config.channels[name]?.settings;
    if (disabled.has(name) || channel?.developmentSettings === undefined || settings === undefined) continue;
    for (const s of channel.developmentSettings(settings as never))
      issues.push(`${name.toUpperCase()}_${toEnvKey(s.key)}: ${s.problem}`);
  }
  return issues;
}

/**
 * Production refuses to serve a channel whose settings still point at development values (as it refuses a missing
 * PAYLOAD_KEYS): throws naming each setting and its fix, and how to disable a channel instead. No-op outside production.
 */
export function assertProductionChannelSettings(config: AppConfig, channels: readonly string[]): void {
  if (config.NOTIFY_ENV !== 'production') return;
  const issues = developmentChannelSettings(config, channels);
  if (issues.length === 0) return;
  throw new Error(
    `NOTIFY_ENV=production, but these channel settings still hold development values:\n${issues.map((i) => `  - ${i}`).join('\n')}\n` +
      'Set them, or disable the channel: add it to DISABLED_CHANNELS and run no worker for it (docker compose: <CHANNEL>_WORKER_REPLICAS=0).',
  );
}

/** PAYLOAD_KEY_ID must name one of PAYLOAD_KEYS, and is required when there are several keys. */
function payloadKeyIssues(base: BaseConfig): string[] {
  if (base.PAYLOAD_KEYS === undefined) return [];
  const ids = [...parsePayloadKeys(base.PAYLOAD_KEYS).keys()];
  if (base.PAYLOAD_KEY_ID === undefined)
    return ids.length > 1
      ? [
          `PAYLOAD_KEY_ID: several PAYLOAD_KEYS are configured (${ids.join(', ')}); set PAYLOAD_KEY_ID to the one that encrypts new data`,
        ]
      : [];
  return ids.includes(base.PAYLOAD_KEY_ID)
    ? []
    : [`PAYLOAD_KEY_ID: ${base.PAYLOAD_KEY_ID} is not among PAYLOAD_KEYS (${ids.join(', ')})`];
}

/** Names of every environment variable the application reads (used by the docker-compose consistency test). */
export function knownEnvVars(): string[] {
  return [...new Set([...Object.keys(baseSchema.shape), ...channelEnvVars()])].sort();
}

/** Kafka brokers and Temporal address to use: the configured ones, else the embedded defaults on 127.0.0.1. */
export function resolveEndpoints(config: AppConfig): { kafkaBrokers: string[]; temporalAddress: string } {
  return {
    kafkaBrokers: config.KAFKA_BROKERS ?? [`127.0.0.1:${config.KAFKA_PORT}`],
    temporalAddress: config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
  };
}

/**
 * Environment for a child process of `npm start`: `defaults` (e.g. channels pointed at the dev sinks), overridden by
 * this process's environment, overridden by `overrides`. Lives here because
 * this is the only module that touches `process.env`.
 */
export function childEnvironment(
  overrides: Record<string, string>,
  defaults: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...defaults, ...inherited, ...overrides };
}

/** The retry schedule of event deliveries (WEBHOOK_EVENTS_RETRY_*, WEBHOOK_EVENTS_TIMEOUT_MS). */
export function eventRetryPolicy(config: BaseConfig): EventRetryPolicy {
  return {
    initialIntervalMs: config.WEBHOOK_EVENTS_RETRY_INITIAL_MS,
    backoffCoefficient: config.WEBHOOK_EVENTS_RETRY_BACKOFF,
    maximumIntervalMs: config.WEBHOOK_EVENTS_RETRY_MAX_INTERVAL_MS,
    maximumAttempts: config.WEBHOOK_EVENTS_RETRY_MAX_ATTEMPTS,
    totalMs: config.WEBHOOK_EVENTS_RETRY_TOTAL_MS,
    attemptTimeoutMs: config.WEBHOOK_EVENTS_TIMEOUT_MS,
  };
}

/**
 * The SSRF rules endpoint URLs of delivery events obey: the webhook channel's WEBHOOK_ALLOWED_NETWORKS and
 * WEBHOOK_ALLOWED_HOSTS (one policy for every caller-chosen URL).
 */
export function eventEndpointRules(config: AppConfig): { allowedNetworks: string[]; allowedHosts: string[] } {
  const settings = config.channels.webhook?.settings as
    { allowedNetworks?: readonly string[]; allowedHosts?: readonly string[] } | undefined;
  return { allowedNetworks: [...(settings?.allowedNetworks ?? [])], allowedHosts: [...(settings?.allowedHosts ?? [])] };
}
