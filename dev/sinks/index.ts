/** Local protocol sinks: SMTP, Twilio-, Slack- and webhook-compatible HTTP endpoints that record and inject faults. */
export { startSinks } from './sinks.js';
export type { RunningSinks, SinksOptions } from './sinks.js';
export { FAULT_KINDS, faultRuleSchema, faultRulesSchema, matchFault, SINK_CHANNELS, SINK_PROVIDERS } from './faults.js';
export type { FaultKind, FaultRule, FaultSubject, SinkChannel, SinkProvider } from './faults.js';
export type { MessageFilter, SinkMessage } from './store.js';
export { SinkStore } from './store.js';
export { DEV_WEBHOOK_SECRET } from './defaults.js';
export { signingKey, verifyWebhookSignature, SIGNATURE_TOLERANCE_SECONDS } from './signature.js';
export { sinkChannelEnv } from './channel-env.js';
