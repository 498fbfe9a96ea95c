/**
 * Digests: notifications for one recipient that share a digest key are combined into one send per channel.
 *
 * Pure types, constants and functions shared by the gateway (validation), the digest workflow and the activity that
 * feeds it. No runtime dependencies: workflow code imports this module.
 */
import type { ChannelRetryPolicy, Delivery, DeliveryState } from './notification.js';
import { isTemplateContent, TEMPLATE_CONTENT_KEY } from './notification.js';

/** The request field: `{"key": "daily-comments", "window": "10m"}`. */
export interface DigestSpec {
  /** Groups notifications of one recipient: 1-64 letters, digits, `_ . -`. */
  key: string;
  /** How long a window stays open after the notification that opened it: `<n>s`, `<n>m` or `<n>h`, 10 s to 24 h. */
  window: string;
}

/** Digest keys: 1-64 letters, digits, `_ . -` (no `/`, the separator of digest workflow ids). */
export const DIGEST_KEY_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Shortest digest window. */
export const DIGEST_MIN_WINDOW_MS = 10_000;
/** Longest digest window. */
export const DIGEST_MAX_WINDOW_MS = 24 * 3600 * 1000;
/**
 * Most notifications one window takes: a full window is sent at once and the next notification opens a new one.
 * Bounds the digest workflow's history per run (about 6 events per item) well below Temporal's limits.
 */
export const DIGEST_MAX_ITEMS = 500;
/**
 * How long a digest workflow stays open after its last send, waiting for a next notification, before it completes.
 * Longer than the join activity's schedule-to-close timeout, so a retried join always reaches the run (or its
 * continued-as-new successor) that remembers the notification id, never a fresh run.
 */
export const DIGEST_IDLE_MS = 15 * 60 * 1000;
/** Upper bound for all attempts of the join activity (signal-with-start); after it the notification is sent alone. */
export const DIGEST_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
/** How many handled notification ids a digest workflow carries across continue-as-new for deduplication. */
export const DIGEST_RECENT_IDS = 2_000;

/** Patch id (`patched()`) of the digest path in the notification workflow. */
export const DIGEST_PATCH = 'digest-v1';
/** Workflow type of the digest actor. */
export const DIGEST_WORKFLOW_TYPE = 'digestWorkflow';
/** Signal (to the digest workflow): add a notification to the current or next window. */
export const SIGNAL_DIGEST_ADD = 'digestAdd';
/** Signal (digest → notification): the notification joined the window that will be sent as `sendId`. */
export const SIGNAL_DIGEST_ASSIGNED = 'digestAssigned';
/** Signal (digest → notification): the window was sent (or failed); per-delivery outcome. */
export const SIGNAL_DIGEST_OUTCOME = 'digestOutcome';

/** Parses `10s`, `10m`, `2h` into milliseconds; `undefined` for anything else. */
export function parseDigestWindow(window: string): number | undefined {
  const m = /^([1-9][0-9]{0,5})(s|m|h)$/.exec(window);
  if (m === null) return undefined;
  const unit = m[2] === 's' ? 1_000 : m[2] === 'm' ? 60_000 : 3_600_000;
  return Number(m[1]) * unit;
}

/**
 * Workflow id of the digest actor for one (deployment, client, recipient, key): deterministic, so every notification
 * of the group signals the same workflow. `/` appears in none of the parts (task-queue prefix, API key name,
 * recipient id and digest key charsets), so the id is unambiguous.
 */
export function digestWorkflowId(taskQueuePrefix: string, clientId: string, recipient: string, key: string): string {
  return `digest/${taskQueuePrefix}/${clientId}/${recipient}/${key}`;
}

/**
 * Id of one digest send (one window): `dgs_` + the id suffix of the notification that opened the window. Unique
 * (notification ids are), deterministic, and usable as notification id and idempotency key at the providers.
 */
export function digestSendId(openerNotificationId: string): string {
  return `dgs_${openerNotificationId.replace(/^ntf_/, '')}`;
}

/** One notification as the digest workflow keeps it. */
export interface DigestItem {
  notificationId: string;
  acceptedAt: string;
  /** Window length the notification asked for; the notification that opens a window sets its length. */
  windowMs: number;
  deliveries: Delivery[];
  metadata?: Record<string, string>;
  category?: string;
  retryPolicies: Record<string, ChannelRetryPolicy>;
}

/** Input of the digest workflow (also its continue-as-new input). */
export interface DigestWorkflowInput {
  clientId: string;
  recipient: string;
  key: string;
  taskQueuePrefix: string;
  /** Items carried over from the previous run (they arrived while its window was being sent). */
  pending: DigestItem[];
  /** Notification ids handled by earlier runs (bounded by {@link DIGEST_RECENT_IDS}): a repeated signal is ignored. */
  recent: string[];
  /** Windows sent by earlier runs of this digest. */
  windowsSent: number;
}

/** Input of the join activity: signal-with-start of the digest workflow. */
export interface JoinDigestInput {
  workflowId: string;
  start: DigestWorkflowInput;
  item: DigestItem;
}

/** Signal payload digest → notification: which send the notification is part of. */
export interface DigestAssignment {
  sendId: string;
  digestWorkflowId: string;
}

/** Signal payload digest → notification: outcome of the send, one state per delivery of the notification. */
export interface DigestOutcome {
  sendId: string;
  deliveries: DeliveryState[];
}

/** One notification's content on one channel, as handed to {@link combineDigestContent}. */
export interface DigestEntry {
  notificationId: string;
  content: unknown;
}

const SMS_MAX = 1600;

function field(content: unknown, name: string): string | undefined {
  if (typeof content !== 'object' || content === null) return undefined;
  const v = (content as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The content of a digest send on one channel, from the digested notifications' contents (oldest first).
 *
 * THE one place that decides what a digest says. Plain content is combined here: email — the first subject plus
 * "(+N more)", every text listed (HTML parts joined, or the texts escaped), `X-Notify-Digest` /
 * `X-Notify-Digest-Items` headers naming the send and every notification id; SMS — bodies one per line, cut at 1600
 * characters with "(+N more)"; Slack — texts one per line; webhook — `{ digest, count, items: [{ notificationId,
 * content }] }`. When templates exist (`template` + `data` on the request), the digested notifications that name a
 * template (all of them naming the same one) are rendered once with data `{ items: [<each notification's data>],
 * count, digest }`: this returns that template reference, rendered by the delivery activity like any other (never in
 * workflow code). Notifications of different templates, or templated and plain ones mixed, are combined as plain.
 */
export function combineDigestContent(channel: string, sendId: string, entries: readonly DigestEntry[]): unknown {
  const count = entries.length;
  // Templated notifications of one template: the template renders the whole digest from the list of their data.
  const refs = entries.map((e) => (isTemplateContent(e.content) ? e.content[TEMPLATE_CONTENT_KEY] : undefined));
  const name = refs[0]?.name;
  if (name !== undefined && refs.every((r) => r?.name === name)) {
    return {
      [TEMPLATE_CONTENT_KEY]: {
        name,
        data: { items: refs.map((r) => r?.data ?? {}), count, digest: sendId },
      },
    };
  }
  const first = entries[0]?.content;
  const more = count > 1 ? ` (+${count - 1} more)` : '';
  switch (channel) {
    case 'email': {
      const texts = entries.map((e) => field(e.content, 'text') ?? '');
      const anyHtml = entries.some((e) => field(e.content, 'html') !== undefined);
      const from = field(first, 'from');
      const replyTo = field(first, 'replyTo');
      return {
        subject: `${field(first, 'subject') ?? 'Notifications'}${more}`,
        text: texts.join('\n\n---\n\n'),
        ...(anyHtml
          ? {
              html: entries
                .map((e) => field(e.content, 'html') ?? `<p>${escapeHtml(field(e.content, 'text') ?? '')}</p>`)
                .join('\n<hr>\n'),
            }
          : {}),
        ...(from !== undefined ? { from } : {}),
        ...(replyTo !== undefined ? { replyTo } : {}),
        headers: {
          'X-Notify-Digest': `${sendId}; count=${count}`,
          'X-Notify-Digest-Items': entries.map((e) => e.notificationId).join(' '),
        },
      };
    }
    case 'sms': {
      const lines = entries.map((e) => field(e.content, 'body') ?? '');
      let body = '';
      for (let i = 0; i < lines.length; i++) {
        const next = body === '' ? (lines[i] ?? '') : `${body}\n${lines[i] ?? ''}`;
        const rest = lines.length - i - 1;
        const tail = rest > 0 ? `\n(+${rest} more)` : '';
        if (next.length + tail.length > SMS_MAX) {
          const left = lines.length - i;
          body = `${body}\n(+${left} more)`.slice(0, SMS_MAX);
          break;
        }
        body = next;
      }
      return { body };
    }
    case 'slack':
      return { text: entries.map((e) => `• ${field(e.content, 'text') ?? ''}`).join('\n') };
    default:
      return {
        digest: sendId,
        count,
        items: entries.map((e) => ({ notificationId: e.notificationId, content: e.content })),
      };
  }
}
