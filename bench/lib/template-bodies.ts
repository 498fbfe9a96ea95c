import type { TemplateStore } from '../../src/templates/index.js';
import { ratio } from './stats.js';
import { judgeRatio } from './verdict.js';
import type { JudgedRatio } from './verdict.js';

/** The channels the end-to-end template comparison sends on: email (MJML) and SMS. */
export type TemplateBenchChannel = 'email' | 'sms';

/** How many distinct `data` objects (and rendered plain contents) the requests cycle through. */
export const TEMPLATE_DATA_VARIANTS = 100;

/** `data` of request `i` for `templates/welcome` (cycles through {@link TEMPLATE_DATA_VARIANTS} users). */
export function welcomeData(i: number): Record<string, unknown> {
  const n = i % TEMPLATE_DATA_VARIANTS;
  return { user: { name: `Bench User ${n}` }, product: 'Acme', signInUrl: `https://acme.example/login?u=${n}` };
}

/** Address of request `i` on `channel` (distinct per request, like the SMS bench payload). */
export function benchAddress(channel: TemplateBenchChannel, i: number): string {
  return channel === 'email' ? `bench${i % 10_000}@example.com` : `+1415555${String(i % 10_000).padStart(4, '0')}`;
}

/** The two request bodies of the comparison and their sizes. */
export interface TemplateBodies {
  /** `POST /v1/notifications` body of plain request `i`: the content is the template's output for `welcomeData(i)`. */
  plain: (i: number) => string;
  /** Body of templated request `i`: `template: "welcome"` + `welcomeData(i)`, no content. */
  template: (i: number) => string;
  /** Bytes of request 0 of each kind, and of the rendered content (what the sink receives in both cases). */
  plainRequestBytes: number;
  templateRequestBytes: number;
  renderedContentBytes: number;
}

/**
 * Builds the bodies for one channel. The plain content is the template's own rendered output for the same data, so
 * both kinds deliver byte-identical messages to the sink and differ only in where the content is made: rendered by
 * the delivery activity (template) or carried through the gateway, Kafka and Temporal (plain). JSON is pre-built per
 * data variant, so the open-loop generator only concatenates strings.
 */
export async function buildTemplateBodies(
  store: Pick<TemplateStore, 'render'>,
  channel: TemplateBenchChannel,
): Promise<TemplateBodies> {
  const dataJson: string[] = [];
  const contentJson: string[] = [];
  for (let n = 0; n < TEMPLATE_DATA_VARIANTS; n++) {
    const data = welcomeData(n);
    dataJson.push(JSON.stringify(data));
    contentJson.push(JSON.stringify((await store.render('welcome', channel, data)).content));
  }
  const delivery = (i: number) => `{"channel":"${channel}","to":${JSON.stringify(benchAddress(channel, i))}`;
  const plain = (i: number) =>
    `{"routing":"all","deliveries":[${delivery(i)},"content":${contentJson[i % TEMPLATE_DATA_VARIANTS] ?? '{}'}}]}`;
  const template = (i: number) =>
    `{"routing":"all","template":"welcome","data":${dataJson[i % TEMPLATE_DATA_VARIANTS] ?? '{}'},"deliveries":[${delivery(i)}}]}`;
  return {
    plain,
    template,
    plainRequestBytes: Buffer.byteLength(plain(0)),
    templateRequestBytes: Buffer.byteLength(template(0)),
    renderedContentBytes: Buffer.byteLength(contentJson[0] ?? ''),
  };
}

/** Offered loads of the comparison, derived from a warm-up round offered more than the pipeline is expected to take. */
export interface TemplateRates {
  /** Whether the warm-up saturated the pipeline (delivered clearly below offered). */
  warmupSaturated: boolean;
  /** Delivered/s the pipeline sustained in the warm-up (its capacity when saturated). */
  capacityPerSec: number;
  /**
   * Offered in the saturation rounds: 2.5 × the warm-up's delivered/s (2 × its offer when it did not saturate). The
   * warm-up runs cold (JIT, caches), so it under-reads the capacity: 1.5 × left later rounds unsaturated.
   */
  saturationPerSec: number;
  /** Offered in the latency rounds: half the capacity (no queueing), at least 5/s. */
  latencyPerSec: number;
}

/** A round is saturated when it delivered less than this share of what was offered. */
export const SATURATED_BELOW = 0.9;

/** Chooses the saturation and latency rates from a warm-up round (`offered`/s offered, `delivered`/s delivered). */
export function chooseTemplateRates(offered: number, delivered: number): TemplateRates {
  const warmupSaturated = Number.isFinite(delivered) && delivered > 0 && delivered < SATURATED_BELOW * offered;
  const capacityPerSec = Number.isFinite(delivered) && delivered > 0 ? delivered : offered;
  return {
    warmupSaturated,
    capacityPerSec,
    saturationPerSec: Math.max(5, Math.round(warmupSaturated ? 2.5 * capacityPerSec : 2 * offered)),
    latencyPerSec: Math.max(5, Math.round(0.5 * capacityPerSec)),
  };
}

/**
 * template ÷ plain delivered/s from interleaved saturation rounds (see `judgeRatio`), and invalid when any round of
 * either kind delivered ≥ {@link SATURATED_BELOW} of its offer: that round measured the offer, not the pipeline.
 */
export function judgeSaturatedRatio(
  templateRounds: readonly number[],
  plainRounds: readonly number[],
  offeredPerSec: number,
): JudgedRatio {
  const judged = judgeRatio(templateRounds, plainRounds);
  if (judged.validity !== 'ok') return judged;
  const unsaturated = [...plainRounds, ...templateRounds].filter((v) => !(v < SATURATED_BELOW * offeredPerSec));
  if (unsaturated.length === 0) return judged;
  return {
    ...judged,
    validity: 'invalid',
    reason: `not saturated: ${unsaturated.map((v) => v.toFixed(1)).join(', ')} delivered/s ≥ ${(SATURATED_BELOW * 100).toFixed(0)} % of the ${offeredPerSec}/s offered`,
  };
}

/** The 10 % criterion: template throughput ≥ 0.9 × plain and template p50 latency ≤ 1.1 × plain, both valid. */
export function templateWithinTenPercent(throughput: JudgedRatio, latencyP50: JudgedRatio): boolean {
  return (
    throughput.validity === 'ok' && latencyP50.validity === 'ok' && throughput.value >= 0.9 && latencyP50.value <= 1.1
  );
}

/**
 * CPU ms per delivered notification of each process, plain and template, and template − plain; `total` sums the
 * processes measured in both.
 */
export function cpuPerNotification(
  plain: Record<string, number>,
  template: Record<string, number>,
  plainDelivered: number,
  templateDelivered: number,
): Record<string, { plainMs: number; templateMs: number; deltaMs: number }> {
  const out: Record<string, { plainMs: number; templateMs: number; deltaMs: number }> = {};
  for (const name of new Set([...Object.keys(plain), ...Object.keys(template)])) {
    const plainMs = ratio((plain[name] ?? Number.NaN) * 1000, plainDelivered);
    const templateMs = ratio((template[name] ?? Number.NaN) * 1000, templateDelivered);
    out[name] = { plainMs, templateMs, deltaMs: templateMs - plainMs };
  }
  const both = Object.values(out).filter((v) => Number.isFinite(v.plainMs) && Number.isFinite(v.templateMs));
  const plainMs = both.reduce((s, v) => s + v.plainMs, 0);
  const templateMs = both.reduce((s, v) => s + v.templateMs, 0);
  out.total = { plainMs, templateMs, deltaMs: templateMs - plainMs };
  return out;
}
