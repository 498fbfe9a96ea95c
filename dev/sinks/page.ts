import type { FaultRule } from './faults.js';
import type { SinkMessage } from './store.js';

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The `GET /` page: received messages (newest first) and active fault rules; refreshes itself every 5 s. */
export function renderMessagesPage(messages: readonly SinkMessage[], faults: readonly FaultRule[]): string {
  const rows = messages
    .map(
      (m) =>
        `<tr><td>${m.seq}</td><td>${escapeHtml(new Date(m.receivedAt).toISOString())}</td><td>${escapeHtml(m.channel)}</td>` +
        `<td>${escapeHtml(Array.isArray(m.to) ? m.to.join(', ') : m.to)}</td><td>${escapeHtml(m.summary)}</td>` +
        `<td><code>${escapeHtml(m.notificationId)}</code></td><td><code>${escapeHtml(m.idempotencyKey)}</code></td>` +
        `<td>${m.attemptNo}</td><td><code>${escapeHtml(m.providerMessageId)}</code></td></tr>`,
    )
    .join('\n');
  const faultList =
    faults.length === 0 ? '<p>No fault rules.</p>' : `<pre>${escapeHtml(JSON.stringify(faults, null, 2))}</pre>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>notify dev sinks</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f3f3f3}code{font-size:.85em}</style>
</head><body>
<h1>notify dev sinks</h1>
<p>${messages.length} message(s) received. JSON: <a href="/messages">/messages</a> (filters: <code>?notificationId=</code>, <code>?channel=</code>). Clear with <code>DELETE /messages</code>.</p>
<h2>Fault rules</h2>${faultList}
<h2>Messages</h2>
<table><thead><tr><th>#</th><th>received</th><th>channel</th><th>to</th><th>summary</th><th>notification</th><th>idempotency key</th><th>attempt</th><th>provider id</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
