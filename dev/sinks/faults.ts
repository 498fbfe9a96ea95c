import { z } from 'zod';

/** Channels the sinks receive. */
export const SINK_CHANNELS = ['email', 'sms', 'slack', 'webhook'] as const;
/** A channel the sinks receive. */
export type SinkChannel = (typeof SINK_CHANNELS)[number];

/**
 * Provider tags: which fake answered. `smtp` and `smtp-2` are the two SMTP sinks (two relays), `twilio` and `vonage`
 * the two SMS APIs, `slack` and `webhook` the rest. Fault rules can select one (`provider`), and every recorded
 * message carries it, so failover tests can tell who sent.
 */
export const SINK_PROVIDERS = ['smtp', 'smtp-2', 'twilio', 'vonage', 'slack', 'webhook'] as const;
/** One of SINK_PROVIDERS. */
export type SinkProvider = (typeof SINK_PROVIDERS)[number];

/**
 * Faults the sinks can inject. Per protocol:
 * - `5xx`: HTTP status (default 503) / SMTP 421 — transient for the sender.
 * - `4xx`: HTTP status (default 400; Slack Web API: `{ ok: false, error: slackError }`) / SMTP 550 — permanent.
 * - `429`: HTTP 429 with `Retry-After: retryAfterSeconds` / SMTP 452.
 * - `timeout`: accept the request and never answer, until the client gives up.
 * - `smtp451` / `smtp550`: SMTP replies 451 (transient) / 550 (permanent); over HTTP they act as 503 / 400.
 * - `accept-then-drop`: record the message as received, then destroy the connection without answering
 *   (the provider accepted it but the caller sees an error: the source of at-most-one duplicates).
 */
export const FAULT_KINDS = ['5xx', '4xx', '429', 'timeout', 'smtp451', 'smtp550', 'accept-then-drop'] as const;
/** One of FAULT_KINDS. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault rule; the first rule that matches a request decides its fate. */
export const faultRuleSchema = z.strictObject({
  channel: z.enum(SINK_CHANNELS, { error: `channel must be one of ${SINK_CHANNELS.join(', ')}` }).optional(),
  /** Only requests to this fake provider (e.g. `twilio` but not `vonage`, `smtp` but not `smtp-2`). */
  provider: z.enum(SINK_PROVIDERS, { error: `provider must be one of ${SINK_PROVIDERS.join(', ')}` }).optional(),
  /** Substring of the recipient (email address, phone number, Slack channel / webhook path, webhook URL path). */
  recipient: z.string().min(1).optional(),
  fault: z.enum(FAULT_KINDS, { error: `fault must be one of ${FAULT_KINDS.join(', ')}` }),
  /** Fail only the first N attempts per idempotency key; absent = every attempt. */
  failFirst: z.number().int().min(1, 'failFirst must be at least 1 (omit it to fail always)').optional(),
  /** HTTP status for `5xx` / `4xx`. */
  status: z.number().int().min(400).max(599).optional(),
  /** Retry-After seconds for `429` (default 1). */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** Slack Web API error code for `4xx` (default `channel_not_found`). */
  slackError: z.string().min(1).optional(),
});

/** A validated fault rule. */
export type FaultRule = z.infer<typeof faultRuleSchema>;

/** `PUT /faults` body: a list of rules, or `{ rules: [...] }`. */
export const faultRulesSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && 'rules' in v ? v.rules : v),
  z.array(faultRuleSchema, {
    error:
      'expected a JSON array of fault rules, or { "rules": [...] }, e.g. [{ "channel": "sms", "fault": "5xx", "failFirst": 1 }]',
  }),
);

/** The request a fault rule is matched against. */
export interface FaultSubject {
  channel: SinkChannel;
  /** The fake provider the request reached; rules with a `provider` match only it. */
  provider?: SinkProvider;
  recipients: readonly string[];
  /** Attempt number of this request for its idempotency key (1 for the first). */
  attemptNo: number;
}

/** The first rule matching `subject`, if any. */
export function matchFault(rules: readonly FaultRule[], subject: FaultSubject): FaultRule | undefined {
  return rules.find(
    (r) =>
      (r.channel === undefined || r.channel === subject.channel) &&
      (r.provider === undefined || r.provider === subject.provider) &&
      (r.recipient === undefined || subject.recipients.some((to) => to.includes(r.recipient ?? ''))) &&
      (r.failFirst === undefined || subject.attemptNo <= r.failFirst),
  );
}
