import { z } from 'zod';
import { parseNetworkList } from './network-guard.js';

/**
 * Field builders for channel `configSchema`s. Channel settings arrive from environment variables as strings, and
 * from tests or code as typed values; these accept both and fail with a message naming the accepted forms.
 */

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/**
 * The one boolean parser of every setting (application, channel and dev-infrastructure): `true`/`false`, also
 * `1`/`0`, `yes`/`no`, `on`/`off`, case-insensitive, or a real boolean; anything else is an error naming the
 * accepted words. (`src/config` uses it too: it lives here because channel code may not import `src/config`.)
 */
export function boolSetting(defaultValue: boolean) {
  const message = 'must be true or false (also 1/0, yes/no, on/off)';
  return z
    .preprocess(
      (v) => (typeof v === 'boolean' ? String(v) : v),
      z
        .string({ error: message })
        .refine((v) => TRUE_WORDS.includes(v.toLowerCase()) || FALSE_WORDS.includes(v.toLowerCase()), {
          error: message,
        })
        .transform((v) => TRUE_WORDS.includes(v.toLowerCase())),
    )
    .default(defaultValue);
}

/** An integer setting within [min, max]; strings are converted. */
export function intSetting(defaultValue: number, min: number, max: number) {
  return z.coerce
    .number({ error: 'expected an integer' })
    .int('expected an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(defaultValue);
}

/** An http(s) base URL without a trailing slash. */
export function baseUrlSetting(defaultValue: string) {
  return z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL, e.g. https://api.example.com' })
    .transform((v) => v.replace(/\/+$/, ''))
    .default(defaultValue);
}

/** Hosts of the dev sinks: `npm start` / `npm run sinks` (loopback) and the compose `sinks` service. */
const DEV_SINK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', 'sinks']);

/** Whether a host name is where the dev sinks run (loopback or the compose `sinks` service). */
export function isDevSinkHost(host: string): boolean {
  return DEV_SINK_HOSTS.has(host.toLowerCase());
}

/** Whether an http(s) URL points at the dev sinks' HTTP port (4010 by default) or the compose `sinks` service. */
export function isDevSinkUrl(url: string): boolean {
  const u = new URL(url);
  return u.hostname === 'sinks' || (isDevSinkHost(u.hostname) && u.port === '4010');
}

/** A sender's per-attempt timeout in milliseconds (each channel has its own `<CHANNEL>_TIMEOUT_MS`). */
export function timeoutSetting(defaultValue: number) {
  return intSetting(defaultValue, 100, 600_000);
}

/**
 * Internal networks a channel that connects to caller-chosen URLs may still reach (`<CHANNEL>_ALLOWED_NETWORKS`):
 * comma-separated CIDRs or addresses (e.g. `127.0.0.0/8,::1`), or an array. Empty by default, so every internal
 * address is refused (see network-guard.ts); an entry that is not a network fails naming it.
 */
export function allowedNetworksSetting() {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((n) => n.trim()).filter((n) => n.length > 0))
    .superRefine((entries, ctx) => {
      try {
        parseNetworkList(entries);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .default([]);
}

/**
 * Circuit-breaker settings of a channel with several providers (`<CHANNEL>_CIRCUIT_FAILURE_THRESHOLD`,
 * `_CIRCUIT_WINDOW_MS`, `_CIRCUIT_COOLDOWN_MS`): that many consecutive failures of one provider within the window
 * open its circuit in this worker process; after the cool-down one probe call goes through. Spread into a channel's
 * `configSchema`; see circuit-breaker.ts and failover.ts.
 */
export function circuitSettings() {
  return {
    circuitFailureThreshold: intSetting(5, 1, 1_000),
    circuitWindowMs: intSetting(60_000, 100, 86_400_000),
    circuitCooldownMs: intSetting(30_000, 100, 86_400_000),
  };
}

/** A comma-separated list setting (or an array): entries trimmed, empty ones dropped. */
export function listSetting() {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((n) => n.trim()).filter((n) => n.length > 0));
}
