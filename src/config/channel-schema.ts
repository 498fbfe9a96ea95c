import { z } from 'zod';
import { channelRegistry } from '../channels/registry.js';
import type { ChannelRetryPolicy } from '../shared/notification.js';
import { int, num } from './fields.js';

/**
 * Settings every channel has, read from `<CHANNEL>_<KEY>`: worker pool size, provider rate limit, retry policy.
 * A new common setting goes here, into `ChannelRuntimeConfig` and into `parseChannelConfigs`.
 */
export const channelCommonSchema = z.object({
  CONCURRENCY: int(200, 1),
  /** Server-side limit for this channel's task queue (`maxTaskQueueActivitiesPerSecond`); unset means unlimited. */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive().optional(),
  RETRY_INITIAL_INTERVAL_MS: int(1_000, 1),
  RETRY_BACKOFF: num(2, 1),
  RETRY_MAX_INTERVAL_MS: int(60_000, 1),
  RETRY_MAX_ATTEMPTS: int(10, 1),
  ATTEMPT_TIMEOUT_MS: int(30_000, 100),
  TOTAL_TIMEOUT_MS: int(3_600_000, 100),
});

/** Settings shared by every channel: worker pool size, provider rate limit and retry policy. */
export interface ChannelRuntimeConfig {
  concurrency: number;
  rateLimitPerSecond?: number;
  retry: ChannelRetryPolicy;
  /** The channel's own settings, parsed by its `configSchema`. */
  settings: Record<string, unknown>;
}

/** `smtpHost` → `SMTP_HOST`. */
export function toEnvKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function pick(env: Record<string, string | undefined>, prefix: string, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = env[`${prefix}${key}`];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** `path: message` lines of a zod error, with each path turned into the variable name by `nameOf`. */
export function formatIssues(error: z.ZodError, nameOf: (path: PropertyKey[]) => string): string[] {
  return error.issues.map((issue) => `${nameOf(issue.path)}: ${issue.message}`);
}

/**
 * Parses every registered channel's settings from `env`: the common ones (`channelCommonSchema`) and the channel's
 * own `configSchema` (key `fooBar` from `<CHANNEL>_FOO_BAR`). Returns the parsed channels and the issues found.
 */
export function parseChannelConfigs(env: Record<string, string | undefined>): {
  channels: Record<string, ChannelRuntimeConfig>;
  issues: string[];
} {
  const issues: string[] = [];
  const channels: Record<string, ChannelRuntimeConfig> = {};
  for (const channel of channelRegistry) {
    const prefix = `${channel.name.toUpperCase()}_`;
    const common = channelCommonSchema.safeParse(pick(env, prefix, Object.keys(channelCommonSchema.shape)));
    const shapeKeys = Object.keys(channel.configSchema.shape);
    const raw: Record<string, string> = {};
    for (const key of shapeKeys) {
      const value = env[`${prefix}${toEnvKey(key)}`];
      if (value !== undefined && value !== '') raw[key] = value;
    }
    const settings = channel.configSchema.safeParse(raw);
    if (!common.success) issues.push(...formatIssues(common.error, (p) => `${prefix}${String(p[0])}`));
    if (!settings.success) issues.push(...formatIssues(settings.error, (p) => `${prefix}${toEnvKey(String(p[0]))}`));
    if (common.success && settings.success) {
      const c = common.data;
      channels[channel.name] = {
        concurrency: c.CONCURRENCY,
        rateLimitPerSecond: c.RATE_LIMIT_PER_SECOND,
        retry: {
          initialIntervalMs: c.RETRY_INITIAL_INTERVAL_MS,
          backoffCoefficient: c.RETRY_BACKOFF,
          maximumIntervalMs: c.RETRY_MAX_INTERVAL_MS,
          maximumAttempts: c.RETRY_MAX_ATTEMPTS,
          attemptTimeoutMs: c.ATTEMPT_TIMEOUT_MS,
          totalTimeoutMs: c.TOTAL_TIMEOUT_MS,
        },
        settings: settings.data,
      };
    }
  }
  return { channels, issues };
}

/** Names of every channel variable (common and channel-specific) of every registered channel. */
export function channelEnvVars(): string[] {
  const names: string[] = [];
  for (const channel of channelRegistry) {
    const prefix = `${channel.name.toUpperCase()}_`;
    for (const key of Object.keys(channelCommonSchema.shape)) names.push(`${prefix}${key}`);
    for (const key of Object.keys(channel.configSchema.shape)) names.push(`${prefix}${toEnvKey(key)}`);
  }
  return names;
}
