/**
 * Template rendering cost (issue 15): `npx tsx bench/phases/templates.ts [--rounds 3] [--messages 200]`.
 *
 * Measures, in one process against the dev sinks (real SMTP and the Twilio-compatible HTTP sink):
 * - the one-time load + compile of the template folder (MJML runs here, once per process);
 * - render time per message for each channel of `templates/welcome` (Liquid on the precompiled MJML + html-to-text);
 * - a send as the delivery activity does it, plain content vs. the same message rendered from the template, rounds
 *   interleaved (plain, template, plain, …): the ratio is the activity-level cost of templating. Kafka, ingest and
 *   Temporal do the same work for both (the template reference replaces the content), so end to end the ratio can
 *   only be closer to 1 than this one.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { getChannel } from '../../src/channels/registry.js';
import { loadConfig } from '../../src/config/config.js';
import { loadTemplateStore } from '../../src/templates/index.js';
import { DEV_WEBHOOK_SECRET, sinkChannelEnv, startSinks } from '../../dev/sinks/index.js';
import { median, ratio, relativeSpread, spreadOf, summarize } from '../lib/stats.js';

const data = { user: { name: 'Ada Lovelace' }, product: 'Acme', signInUrl: 'https://acme.example/login?u=42' };

/** Results of the template phase (milliseconds). */
export interface TemplateResults {
  loadMs: number;
  renderMs: Record<string, { p50: number; p99: number }>;
  sendMs: Record<string, { plain: number[]; template: number[]; ratio: number; baselineSpread: number }>;
}

/** Runs the phase; `log` receives one line per figure. */
export async function templatePhase(
  options: { rounds: number; messages: number },
  log: (line: string) => void,
): Promise<TemplateResults> {
  const quiet = pino({ level: 'silent' });
  const started = performance.now();
  const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
  const loadMs = performance.now() - started;
  log(`load + compile templates/: ${loadMs.toFixed(0)} ms (once per process)`);

  const renderMs: TemplateResults['renderMs'] = {};
  for (const channel of ['email', 'sms', 'slack', 'webhook']) {
    for (let i = 0; i < 50; i++) await store.render('welcome', channel, data); // warm-up (JIT)
    const samples: number[] = [];
    for (let i = 0; i < options.messages; i++) {
      const t0 = performance.now();
      await store.render('welcome', channel, data);
      samples.push(performance.now() - t0);
    }
    const s = summarize(samples);
    renderMs[channel] = { p50: s.p50, p99: s.p99 };
    log(`render ${channel}: p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms per message`);
  }

  const sinks = await startSinks({
    host: '127.0.0.1',
    httpPort: 0,
    smtpPort: 0,
    webhookSecret: DEV_WEBHOOK_SECRET,
    logger: quiet,
  });
  const config = loadConfig({
    ...sinkChannelEnv({ httpUrl: sinks.httpUrl, smtpHost: '127.0.0.1', smtpPort: sinks.smtpPort }),
  });
  const sendMs: TemplateResults['sendMs'] = {};
  try {
    for (const [channel, to] of [
      ['email', 'ada@example.com'],
      ['sms', '+14155550123'],
    ] as const) {
      const definition = getChannel(channel);
      const runtime = config.channels[channel];
      if (definition === undefined || runtime === undefined) throw new Error(`no ${channel} channel`);
      const sender = definition.createSender(runtime.settings, { logger: quiet });
      const plainContent = (await store.render('welcome', channel, data)).content;
      let n = 0;
      const send = async (content: unknown) => {
        n++;
        const id = `ntf_bench${String(n).padStart(26, '0')}`;
        await sender.send(
          { to, content },
          { idempotencyKey: `${id}.${channel}`, notificationId: id, signal: new AbortController().signal },
        );
      };
      /** Mean ms per message of `messages` sequential sends. */
      const round = async (templated: boolean) => {
        const t0 = performance.now();
        for (let i = 0; i < options.messages; i++)
          await send(templated ? (await store.render('welcome', channel, data)).content : plainContent);
        return (performance.now() - t0) / options.messages;
      };
      await round(false); // warm-up: connections, JIT
      const plain: number[] = [];
      const template: number[] = [];
      for (let r = 0; r < options.rounds; r++) {
        // Interleaved, order alternating per round, so drift on a shared box hits both alike.
        if (r % 2 === 0) {
          plain.push(await round(false));
          template.push(await round(true));
        } else {
          template.push(await round(true));
          plain.push(await round(false));
        }
      }
      await sender.close();
      const result = {
        plain,
        template,
        ratio: ratio(median(template), median(plain)),
        baselineSpread: relativeSpread(spreadOf(plain)),
      };
      sendMs[channel] = result;
      const valid =
        result.baselineSpread <= 0.3
          ? ''
          : ` (INVALID: plain baseline spread ${(result.baselineSpread * 100).toFixed(0)} % > 30 %)`;
      log(
        `send ${channel}: plain ${median(plain).toFixed(2)} ms, template ${median(template).toFixed(2)} ms per message → template ÷ plain ${result.ratio.toFixed(3)}${valid} (target ≤ 1.10)`,
      );
    }
  } finally {
    await sinks.close();
  }
  return { loadMs, renderMs, sendMs };
}

const isMain =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'));
if (isMain) {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, messages: { type: 'string', default: '200' } },
  });
  templatePhase({ rounds: Math.max(2, Number(values.rounds)), messages: Math.max(10, Number(values.messages)) }, (l) =>
    console.log(`[templates] ${l}`),
  ).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
