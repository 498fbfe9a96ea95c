import type { z } from 'zod';
import { parsePayloadKeys } from '../crypto/keyring.js';
import { appSchema } from './app-schema.js';
import { channelEnvVars, formatIssues, parseChannelConfigs } from './channel-schema.js';
import type { ChannelRuntimeConfig } from './channel-schema.js';
import { devInfraSchema } from './dev-infra-schema.js';

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
  if (issues.length > 0 || !base.success) throw new ConfigError(issues);
  return { ...base.data, channels };
}

/** PAYLOAD_KEY_ID must name one of PAYLOAD_KEYS, and is required when there are several keys. */
function payloadKeyIssues(base: BaseConfig): string[] {
  if (base.PAYLOAD_KEYS === undefined) return [];
  const ids = [...parsePayloadKeys(base.PAYLOAD_KEYS).keys()];
  if (base.PAYLOAD_KEY_ID === undefined) return ids.length > 1 ? [`PAYLOAD_KEY_ID: several PAYLOAD_KEYS are configured (${ids.join(', ')}); set PAYLOAD_KEY_ID to the one that encrypts new data`] : [];
  return ids.includes(base.PAYLOAD_KEY_ID) ? [] : [`PAYLOAD_KEY_ID: ${base.PAYLOAD_KEY_ID} is not among PAYLOAD_KEYS (${ids.join(', ')})`];
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
export function childEnvironment(overrides: Record<string, string>, defaults: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...defaults, ...inherited, ...overrides };
}
