import { describe, expect, it } from 'vitest';
import { loadTemplateStore } from '../../src/templates/index.js';
import {
  buildTemplateBodies,
  chooseTemplateRates,
  cpuPerNotification,
  judgeSaturatedRatio,
  templateWithinTenPercent,
  welcomeData,
} from './template-bodies.js';
import { judgeRatio } from './verdict.js';

describe('buildTemplateBodies', () => {
  it('carries as plain content exactly what the template renders for the same data', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    for (const channel of ['email', 'sms'] as const) {
      const bodies = await buildTemplateBodies(store, channel);
      const plain = JSON.parse(bodies.plain(7)) as { deliveries: Array<{ channel: string; content: unknown }> };
      const template = JSON.parse(bodies.template(7)) as {
        template: string;
        data: Record<string, unknown>;
        deliveries: Array<{ channel: string; content?: unknown; to: string }>;
      };
      expect(plain.deliveries[0]?.channel).toBe(channel);
      expect(plain.deliveries[0]?.content).toEqual((await store.render('welcome', channel, welcomeData(7))).content);
      expect(template.template).toBe('welcome');
      expect(template.data).toEqual(welcomeData(7));
      expect(template.deliveries[0]?.content).toBeUndefined();
      expect(template.deliveries[0]?.to).toBe((plain.deliveries[0] as unknown as { to: string }).to);
      expect(bodies.renderedContentBytes).toBeGreaterThan(0);
    }
  });

  it('makes the plain email request carry the rendered HTML, far larger than the template request', async () => {
    const store = await loadTemplateStore({ dir: 'templates', defaultLocale: 'en' });
    const bodies = await buildTemplateBodies(store, 'email');
    expect(bodies.plainRequestBytes).toBeGreaterThan(bodies.renderedContentBytes);
    expect(bodies.templateRequestBytes * 5).toBeLessThan(bodies.plainRequestBytes);
  });
});

describe('chooseTemplateRates', () => {
  it('offers 2.5 × the capacity a saturated warm-up found, and half of it for latency', () => {
    expect(chooseTemplateRates(60, 24)).toEqual({
      warmupSaturated: true,
      capacityPerSec: 24,
      saturationPerSec: 60,
      latencyPerSec: 12,
    });
  });

  it('doubles the offer when the warm-up kept up with it', () => {
    const r = chooseTemplateRates(60, 58);
    expect(r.warmupSaturated).toBe(false);
    expect(r.saturationPerSec).toBe(120);
    expect(r.latencyPerSec).toBe(29);
  });

  it('never offers less than 5/s, also when the warm-up delivered nothing', () => {
    const r = chooseTemplateRates(60, Number.NaN);
    expect(r.warmupSaturated).toBe(false);
    expect(r.latencyPerSec).toBe(30);
    expect(chooseTemplateRates(6, 2).latencyPerSec).toBe(5);
  });
});

describe('judgeSaturatedRatio', () => {
  it('passes the ratio through when every round delivered clearly less than offered', () => {
    const r = judgeSaturatedRatio([20, 21], [22, 22], 36);
    expect(r.validity).toBe('ok');
    expect(r.value).toBeCloseTo(20.5 / 22, 5);
  });

  it('is invalid when a round kept up with the offer, so it measured the offer and not the pipeline', () => {
    const r = judgeSaturatedRatio([35, 21], [22, 22], 36);
    expect(r.validity).toBe('invalid');
    expect(r.reason).toMatch(/not saturated: 35\.0/);
  });

  it('keeps the verdict of an unstable baseline', () => {
    expect(judgeSaturatedRatio([20, 20], [10, 30], 60).reason).toMatch(/baseline unstable/);
  });
});

describe('templateWithinTenPercent', () => {
  const ok = (subject: number[], baseline: number[]) => judgeRatio(subject, baseline);

  it('is met when throughput is at least 0.9 × plain and p50 at most 1.1 × plain', () => {
    expect(templateWithinTenPercent(ok([19, 19], [20, 20]), ok([105, 105], [100, 100]))).toBe(true);
  });

  it('is not met when the template is more than 10 % slower on either figure', () => {
    expect(templateWithinTenPercent(ok([17, 17], [20, 20]), ok([100, 100], [100, 100]))).toBe(false);
    expect(templateWithinTenPercent(ok([20, 20], [20, 20]), ok([120, 120], [100, 100]))).toBe(false);
  });

  it('is never met on an invalid ratio, however good its value', () => {
    expect(templateWithinTenPercent(ok([20, 20], [10, 30]), ok([100, 100], [100, 100]))).toBe(false);
  });
});

describe('cpuPerNotification', () => {
  it('divides each process CPU by the notifications delivered of each kind', () => {
    const r = cpuPerNotification({ worker: 2, gateway: 1 }, { worker: 1.5 }, 100, 50);
    expect(r.worker).toEqual({ plainMs: 20, templateMs: 30, deltaMs: 10 });
    expect(r.gateway?.plainMs).toBe(10);
    expect(r.gateway?.templateMs).toBeNaN();
    // The total sums only the processes measured in both kinds.
    expect(r.total).toEqual({ plainMs: 20, templateMs: 30, deltaMs: 10 });
  });
});
