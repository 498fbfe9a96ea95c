import type { TemplateResults } from '../phases/templates.js';
import type { TemplateE2eResults } from '../phases/templates-e2e.js';
import type { E2eResults } from '../phases/e2e.js';
import type { GatewayResults } from '../phases/gateway.js';
import type { RestartResults } from '../phases/reference.js';
import type { PragmaResults } from '../phases/temporal.js';
import { median, ratio } from './stats.js';
import type { Spread } from './stats.js';
import { describeRatio, judgeRatio } from './verdict.js';
import type { JudgedRatio } from './verdict.js';

/** Everything one run measured, as written to `bench-results/bench-<ts>.json`. */
export interface BenchReport {
  startedAt: string;
  durationSec: number;
  mode: 'quick' | 'default';
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; node: string };
  gateway?: GatewayResults;
  temporal: PragmaResults[];
  e2e?: E2eResults;
  /** Start-to-ready time of every component the run started. */
  readiness?: Array<{ name: string; readyMs: number }>;
  restart?: RestartResults;
  /** Template rendering cost (phase `templates`). */
  templates?: TemplateResults;
  /** Template send vs plain send end to end (phase `templates-e2e`). */
  templatesE2e?: TemplateE2eResults;
  summary: Summary;
}

/** A headline figure with its target verdict. */
export interface Verdict {
  figure: string;
  value: string;
  target: string;
  met: boolean | 'n/a';
}

/** Headline figures and ratios. */
export interface Summary {
  verdicts: Verdict[];
  /** Plain figures (ceilings, unjudged ratios). */
  ratios: Record<string, number>;
  /** Ratios measured interleaved against a baseline, with validity. */
  judged: Record<string, JudgedRatio>;
}

const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '–');
const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(0)} %` : '–');

/** "1234 (1100–1300)": median and range of a spread. */
const range0 = (v: Spread) => `${f0(v.median)} (${f0(v.min)}–${f0(v.max)})`;
const range1 = (v: Spread) => `${f1(v.median)} (${f1(v.min)}–${f1(v.max)})`;

/** Computes ratios and target verdicts from the raw results. A target on an invalid ratio is never met. */
export function summarize(report: Omit<BenchReport, 'summary'>): Summary {
  const verdicts: Verdict[] = [];
  const ratios: Record<string, number> = {};
  const judged: Record<string, JudgedRatio> = {};
  const gw = report.gateway;
  if (gw !== undefined) {
    const main = gw.gateways[0];
    const r = gw.ratios[0]?.ratio;
    if (main !== undefined && r !== undefined) {
      judged[`${main.name} ÷ bare fastify+zod (wrk, accepted/s)`] = r;
      verdicts.push({
        figure: `generator headroom (wrk -t${gw.wrk.threads} -c${gw.wrk.connections})`,
        value: `bare route ${f0(gw.bare.okPerSec.median)}/s = ${gw.headroom.bareOverGateway.toFixed(2)} × the gateway; wrk at most ${pct(gw.headroom.generatorCpuShareMax)} of its core`,
        target: 'bare > gateway (else generator-bound)',
        met: gw.headroom.bound === undefined,
      });
      verdicts.push({
        figure: `gateway ÷ bare fastify+zod [${main.name}]`,
        value: r.validity === 'ok' ? describeRatio(r) : `${r.validity.toUpperCase()} (${r.reason ?? ''})`,
        target: '≥ 0.6',
        met: r.validity === 'ok' ? r.value >= 0.6 : false,
      });
      const b = gw.budget;
      verdicts.push({
        figure: 'CPU budget of 0.6 × bare on this box',
        value: `${b.cost.total.toFixed(3)} ms CPU per accepted request (gateway ${b.cost.gateway.toFixed(3)}, Kafka ${b.cost.kafka.toFixed(3)}, wrk ${b.cost.generator.toFixed(3)}): ${b.cores} cores allow ≤ ${f0(b.boxBoundPerSec)}/s; ${f0(b.targetPerSec)}/s needs ${b.coresNeeded.toFixed(2)} cores`,
        target: 'fits into the box (else out of reach at this cost, whatever the parallelism)',
        met: b.reachable,
      });
      verdicts.push({
        figure: `gateway accepted/s [${main.name}]`,
        value: `${range0(main.okPerSec)}/s, p99 ${range1(main.p99Ms)} ms at ${gw.wrk.connections} connections${main.errors > 0 ? `, ${main.errors} errors` : ''}`,
        target: '≥ 5,000/s on this box',
        met: r.validity === 'ok' ? main.okPerSec.median >= 5_000 : false,
      });
      const ol = gw.openLoop;
      verdicts.push({
        figure: `gateway p99 at 80 % of max (open loop, ${ol.generator ?? 'node'}, ${f0(ol.offeredPerSec)}/s)`,
        value: ol.generatorBound
          ? `GENERATOR-BOUND (issue lag p99 ${f1(ol.issueLagP99Ms)} ms) [measured p99 ${f1(ol.p99Ms)} ms]`
          : `p50 ${f1(ol.p50Ms)} ms, p99 ${f1(ol.p99Ms)} ms, ${f0(ol.acceptedPerSec)}/s accepted, ${ol.failed} failed`,
        target: 'p99 < 50 ms',
        met: !ol.generatorBound && ol.p99Ms < 50 && ol.failed === 0,
      });
      const held = (gw.openLoopLadder ?? []).filter((l) => !l.generatorBound && l.p99Ms < 50 && l.failed === 0);
      const best = held[held.length - 1];
      if (gw.openLoopLadder !== undefined)
        verdicts.push({
          figure: 'highest open-loop rate with p99 < 50 ms (40 / 60 / 80 % of max)',
          value:
            best === undefined
              ? 'none of them'
              : `${f0(best.offeredPerSec)}/s (${pct(best.fractionOfMax ?? Number.NaN)} of max): p99 ${f1(best.p99Ms)} ms`,
          target: '– (reported beside)',
          met: 'n/a',
        });
      verdicts.push({
        figure: `batch endpoint (${gw.batch.batchSize} per request)`,
        value: `${range0(gw.batch.notificationsPerSec)} notifications/s = ${gw.batch.overSingle.toFixed(1)} × single requests`,
        target: '– (reported beside)',
        met: 'n/a',
      });
    }
    for (const { name, ratio: rr } of gw.ratios.slice(1)) judged[`${name} ÷ bare fastify+zod (wrk, accepted/s)`] = rr;
    ratios['gateway ÷ bare kafkajs producer (records/s)'] = ratio(
      main?.okPerSec.median ?? Number.NaN,
      gw.bareKafka.recordsPerSec,
    );
  }
  const rs = report.restart;
  if (rs !== undefined) {
    verdicts.push({
      figure: 'workflow worker restart (spawn → polling)',
      value: `cached bundle ${(rs.cachedMs.median / 1000).toFixed(1)} s (${(rs.cachedMs.min / 1000).toFixed(1)}–${(rs.cachedMs.max / 1000).toFixed(1)}) vs bundle built at start ${(rs.builtMs.median / 1000).toFixed(1)} s (${(rs.builtMs.min / 1000).toFixed(1)}–${(rs.builtMs.max / 1000).toFixed(1)})`,
      target: '≤ 2 s',
      met: rs.cachedMs.median <= 2_000,
    });
    const ph = rs.cachedPhasesMs;
    if (ph !== undefined) {
      verdicts.push({
        figure: 'workflow worker start-up phases (cached bundle, median, worker log)',
        value: `node + modules ${f0(ph.modules)} ms, connect ${f0(ph.connect)} ms, create workers ${f0(ph.createWorkers)} ms = ${f0(ph.total)} ms to polling`,
        target: '– (where the restart time goes)',
        met: 'n/a',
      });
    }
    judged['workflow worker start-to-ready: cached bundle ÷ built at start (lower is better)'] = judgeRatio(
      rs.cachedMs.rounds,
      rs.builtMs.rounds,
    );
  }
  const final = report.temporal[report.temporal.length - 1];
  if (final !== undefined) {
    const bestIngest = [...final.ingest].sort((a, b) => b.recordsPerSec - a.recordsPerSec)[0];
    if (bestIngest !== undefined) {
      const r = judgeRatio(bestIngest.rounds, final.bareStartRounds);
      judged[`ingest ÷ bare workflow.start (${final.name})`] = r;
      verdicts.push({
        figure: `ingest [${bestIngest.name}, ${final.name}]`,
        value:
          r.validity === 'ok'
            ? `${describeRatio(r)}: ${f0(bestIngest.recordsPerSec)}/s vs ${f0(final.bareStartsPerSec)} bare starts/s`
            : `${r.validity.toUpperCase()} (${r.reason ?? ''})`,
        target: '≥ 0.9 × bare start rate',
        met: r.validity === 'ok' && r.value >= 0.9,
      });
    }
  }
  for (const t of report.temporal) {
    for (const c of t.ceilings) ratios[`Temporal ceiling ${t.name}/${c.name} (delivered/s)`] = c.deliveredPerSec;
  }
  const e2e = report.e2e;
  if (e2e !== undefined && e2e.points.length > 0) {
    const saturation = Math.max(...e2e.points.map((p) => p.deliveredPerSec));
    const tp = e2e.throughput;
    if (tp !== undefined) {
      judged['notify end to end ÷ notify workflow started directly (its ceiling)'] = tp.e2eOverCeiling;
      judged['notify end to end ÷ minimal one-activity workflow'] = tp.e2eOverMinimal;
      judged['notify workflow started directly ÷ minimal one-activity workflow'] = tp.ceilingOverMinimal;
      const show = (r: JudgedRatio) =>
        r.validity === 'ok' ? describeRatio(r) : `${r.validity.toUpperCase()} (${r.reason ?? ''})`;
      verdicts.push({
        figure: 'end to end ÷ its own ceiling (interleaved)',
        value: `${show(tp.e2eOverCeiling)}; ${f1(tp.e2ePerSec.median)}/s vs ${f1(tp.ceilingPerSec.median)}/s`,
        target: '≥ 0.8',
        met: tp.e2eOverCeiling.validity === 'ok' && tp.e2eOverCeiling.value >= 0.8,
      });
      verdicts.push({
        figure: 'end to end ÷ minimal one-activity workflow (interleaved)',
        value: `${show(tp.e2eOverMinimal)}; ${f1(tp.e2ePerSec.median)}/s vs ${f1(tp.minimalPerSec.median)}/s`,
        target: '≥ 1 (goal)',
        met: tp.e2eOverMinimal.validity === 'ok' && tp.e2eOverMinimal.value >= 1,
      });
      const cpu = tp.cpuMsPerWorkflow;
      if (cpu !== undefined) {
        const show = (m: Record<string, number>) =>
          Object.entries(m)
            .map(([k, v]) => `${k} ${f1(v)}`)
            .join(', ');
        verdicts.push({
          figure: 'CPU ms per workflow, throughput rounds: minimal vs notify started directly',
          value: `minimal: ${show(cpu.minimal)}; notify: ${show(cpu.notifyDirect)}`,
          target: '– (notify’s own share)',
          met: 'n/a',
        });
      }
    }
    ratios['end to end max delivered/s on the ladder'] = saturation;
    const half = [...e2e.points].sort(
      (a, b) => Math.abs(a.offeredPerSec - saturation / 2) - Math.abs(b.offeredPerSec - saturation / 2),
    )[0];
    if (half !== undefined) {
      verdicts.push({
        figure: `end to end latency at ${f0(half.offeredPerSec)}/s (≈ half of saturation)`,
        value: `p50 ${f0(half.p50Ms)} ms, p99 ${f0(half.p99Ms)} ms`,
        target: 'p50 < 150 ms and p99 < 1 s',
        met: half.p50Ms < 150 && half.p99Ms < 1_000,
      });
    }
  }
  for (const c of report.templatesE2e?.channels ?? []) {
    judged[
      `${c.channel} template ÷ plain end to end, delivered/s at saturation (${c.rates.saturationPerSec}/s offered)`
    ] = c.throughput;
    judged[`${c.channel} template ÷ plain end to end, 202 → sink p50 at ${c.rates.latencyPerSec}/s (lower is better)`] =
      c.latencyP50;
    const show = (r: JudgedRatio) =>
      r.validity === 'ok' ? describeRatio(r) : `${r.validity.toUpperCase()} (${r.reason ?? ''})`;
    verdicts.push({
      figure: `template send within 10 % of plain end to end [${c.channel}]`,
      value: `delivered/s ${show(c.throughput)}: ${range1(c.template.deliveredPerSec)} vs ${range1(c.plain.deliveredPerSec)}/s; p50 ${show(c.latencyP50)}: ${range0(c.template.p50Ms)} vs ${range0(c.plain.p50Ms)} ms`,
      target: 'delivered/s ≥ 0.9 × plain and p50 ≤ 1.1 × plain',
      met: c.met,
    });
  }
  return { verdicts, ratios, judged };
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The report as Markdown tables (printed, and pasted into bench/README.md). */
export function renderMarkdown(report: BenchReport): string {
  const out: string[] = [
    `### ${report.mode} run, ${report.startedAt} (${f0(report.durationSec)} s; 1/5/15-min load average at start ${report.machine.loadAverageAtStart.map((v) => v.toFixed(1)).join(' ')}, at end ${report.machine.loadAverageAtEnd.map((v) => v.toFixed(1)).join(' ')}, on ${report.machine.cpus} cores)`,
    '',
  ];
  out.push(
    table(
      ['figure', 'value', 'target', 'met'],
      report.summary.verdicts.map((v) => [
        v.figure,
        v.value,
        v.target,
        v.met === true ? 'yes' : v.met === false ? 'no' : 'n/a',
      ]),
    ),
    '',
  );
  const judgedRows = Object.entries(report.summary.judged).map(([k, r]) => [
    k,
    describeRatio(r),
    `${range1(r.subject)} ÷ ${range1(r.baseline)}`,
  ]);
  if (judgedRows.length > 0)
    out.push(table(['ratio (interleaved rounds)', 'value', 'subject ÷ baseline, median (min–max)'], judgedRows), '');
  out.push(
    table(
      ['other figure', 'value'],
      Object.entries(report.summary.ratios).map(([k, v]) => [k, k.includes('÷') ? `${v.toFixed(2)}` : f0(v)]),
    ),
    '',
  );
  if (report.readiness !== undefined && report.readiness.length > 0) {
    out.push(
      'Start-to-ready per component (spawn → ready signal; workers: `workers running`, i.e. polling):',
      '',
      table(
        ['component', 'ready after s'],
        report.readiness.map((r) => [r.name, (r.readyMs / 1000).toFixed(1)]),
      ),
      '',
    );
  }
  const gw = report.gateway;
  if (gw !== undefined) {
    const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–');
    const rows = [gw.bare, ...gw.gateways, gw.batch.requests].map((c) => [
      c.name,
      range0(c.okPerSec),
      c.okPerSec.rounds.map(f0).join(', '),
      range1(c.p50Ms),
      range1(c.p99Ms),
      String(c.errors),
      pct(c.generatorCpuShareMax),
      f3(c.cpuMsPerRequest.median),
      c === gw.bare ? '–' : f3(c.kafkaCpuMsPerRequest.median),
      f3(c.generatorCpuMsPerRequest.median),
      pct(c.machineBusyShare.median),
    ]);
    rows.push([
      'bare kafkajs producer (closed loop, 1000/batch)',
      f0(gw.bareKafka.recordsPerSec),
      '–',
      '–',
      '–',
      '–',
      '–',
      '–',
      '–',
      '–',
      '–',
    ]);
    out.push(
      `Gateway (wrk -t${gw.wrk.threads} -c${gw.wrk.connections} -d${gw.wrk.durationSec}s per round, ${gw.wrk.rounds} rounds interleaved: bare, gateway, bare, gateway…; median (min–max)):`,
      '',
      table(
        [
          'target',
          '2xx/s',
          'rounds',
          'p50 ms',
          'p99 ms',
          'errors',
          'wrk CPU',
          'server CPU ms/req',
          'Kafka CPU ms/req',
          'wrk CPU ms/req',
          'machine busy',
        ],
        rows,
      ),
      '',
    );
    if (gw.openLoopLadder !== undefined)
      out.push(
        `Open loop against ${gw.gateways[0]?.name ?? 'the gateway'} (${gw.openLoop.generator}, own process; latency from each request's scheduled send):`,
        '',
        table(
          [
            'offered/s',
            'of max',
            'accepted/s',
            'p50 ms',
            'p99 ms',
            'failed',
            'issue lag p99 ms',
            'generator CPU',
            'machine busy',
          ],
          gw.openLoopLadder.map((l) => [
            f0(l.offeredPerSec),
            pct(l.fractionOfMax ?? Number.NaN),
            f0(l.acceptedPerSec),
            f1(l.p50Ms),
            f1(l.p99Ms),
            String(l.failed),
            `${f1(l.issueLagP99Ms)}${l.generatorBound ? ' (GENERATOR-BOUND)' : ''}`,
            l.generatorCpuShare === undefined ? '–' : pct(l.generatorCpuShare),
            pct(l.machineBusyShare ?? Number.NaN),
          ]),
        ),
        '',
      );
    for (const p of [gw.profile, gw.compareProfile]) {
      if (p === undefined) continue;
      out.push(
        `CPU profile of ${p.variant} (\`node --cpu-prof\`, start-up left out, busy ${f0(p.busyMs)} ms, ${f0(p.accepted)} requests accepted in its wrk rounds; \`npx tsx bench/top-frames.ts ${p.file} --skip-ms ${p.skipMs}\`):`,
        '',
      );
      out.push(
        table(
          ['self ms', 'share', 'frame'],
          p.frames.slice(0, 15).map((f) => [f0(f.selfMs), pct(f.share), `\`${f.frame}\``]),
        ),
        '',
      );
      out.push(
        table(
          ['area', 'self ms', 'share'],
          p.areas.map((a) => [a.area, f0(a.selfMs), pct(a.share)]),
        ),
        '',
      );
    }
  }
  const trows: string[][] = [];
  for (const t of report.temporal) {
    trows.push([t.name, 'bare workflow.start', f0(t.bareStartsPerSec), '–']);
    for (const i of t.ingest)
      trows.push([t.name, `ingest ${i.name}`, f0(i.recordsPerSec), pct(ratio(i.recordsPerSec, t.bareStartsPerSec))]);
    for (const c of t.ceilings)
      trows.push([
        t.name,
        `ceiling ${c.name} (delivered/s; p50/p99 ${f0(c.p50Ms)}/${f0(c.p99Ms)} ms)`,
        f0(c.deliveredPerSec),
        '–',
      ]);
  }
  out.push(
    'Temporal (per SQLite pragma set):',
    '',
    table(['pragmas', 'measurement', 'per second', 'of bare'], trows),
    '',
  );
  const e2e = report.e2e;
  if (e2e !== undefined) {
    out.push(
      'End to end (202 → sink receipt):',
      '',
      table(
        [
          'offered/s',
          'delivered/s',
          'p50 ms',
          'p99 ms',
          'lag max/end',
          'activity s2s p50/p99 ms',
          'wf task s2s p99 ms',
          'history events',
          'bounded',
        ],
        e2e.points.map((p) => [
          f0(p.offeredPerSec),
          f0(p.deliveredPerSec),
          f0(p.p50Ms),
          f0(p.p99Ms),
          `${f0(p.maxLag)}/${f0(p.endLag)}`,
          `${f0(p.activityS2sP50Ms)}/${f0(p.activityS2sP99Ms)}`,
          f0(p.workflowTaskS2sP99Ms),
          f0(p.historyEvents),
          p.bounded === 1 ? 'yes' : 'no',
        ]),
      ),
      '',
      `Resources over the ladder (${e2e.delivered} notifications delivered; CPU = utime + stime from /proc; the dev server's SQLite database runs inside the temporal process):`,
      '',
      table(
        ['process', 'CPU s', 'CPU ms / delivered notification', 'peak RSS MB'],
        Object.entries(e2e.resources).map(([k, u]) => [k, f1(u.cpuSeconds), f1(u.cpuSecondsPer1000), f0(u.peakRssMb)]),
      ),
      '',
    );
  }
  const tpl = report.templates;
  if (tpl !== undefined) {
    out.push(
      `## Templates (load + compile once per process: ${f0(tpl.loadMs)} ms)`,
      '',
      table(
        ['channel', 'render p50 ms', 'render p99 ms', 'send plain ms', 'send template ms', 'template ÷ plain (≤ 1.10)'],
        Object.entries(tpl.renderMs).map(([channel, r]) => {
          const send = tpl.sendMs[channel];
          return [
            channel,
            r.p50.toFixed(3),
            r.p99.toFixed(3),
            send !== undefined ? median(send.plain).toFixed(2) : '—',
            send !== undefined ? median(send.template).toFixed(2) : '—',
            send === undefined
              ? '—'
              : send.baselineSpread > 0.3
                ? `INVALID (plain spread ${(send.baselineSpread * 100).toFixed(0)} % > 30 %)`
                : send.ratio.toFixed(3),
          ];
        }),
      ),
      '',
    );
  }
  const te = report.templatesE2e;
  if (te !== undefined) {
    const at = (l: number[]) => l.map((v) => v.toFixed(1)).join(' ');
    out.push(
      `## Template vs plain send end to end (gateway → Kafka → ingest → workflow → channel worker → sink; ${te.rounds} rounds × ${te.stepMs / 1000} s per kind, interleaved; load average ${at(te.loadAverageAtStart)} → ${at(te.loadAverageAtEnd)})`,
      '',
      table(
        [
          'channel',
          'kind',
          'request B',
          'delivered/s at saturation',
          'p50 ms',
          'p99 ms',
          'template ÷ plain',
          'within 10 %',
        ],
        te.channels.flatMap((c) => [
          [
            c.channel,
            'plain',
            String(c.plainRequestBytes),
            `${range1(c.plain.deliveredPerSec)} @ ${c.rates.saturationPerSec}/s`,
            `${range0(c.plain.p50Ms)} @ ${c.rates.latencyPerSec}/s`,
            range0(c.plain.p99Ms),
            '–',
            '',
          ],
          [
            c.channel,
            'template',
            String(c.templateRequestBytes),
            range1(c.template.deliveredPerSec),
            range0(c.template.p50Ms),
            range0(c.template.p99Ms),
            `delivered/s ${describeRatio(c.throughput)}; p50 ${describeRatio(c.latencyP50)}; p99 ${describeRatio(c.latencyP99)}`,
            c.met ? 'yes' : 'no',
          ],
        ]),
      ),
      '',
      'CPU ms per delivered notification (utime + stime from /proc, every round of the kind), plain → template:',
      '',
      table(
        [
          'channel',
          ...Object.keys(te.channels[0]?.cpuMsPerNotification ?? {}).map((k) =>
            k.replace(/\((email|sms)\)/, '(channel)'),
          ),
        ],
        te.channels.map((c) => [
          c.channel,
          ...Object.values(c.cpuMsPerNotification).map((v) => `${f1(v.plainMs)} → ${f1(v.templateMs)}`),
        ]),
      ),
      '',
    );
    for (const p of te.profiles ?? []) {
      out.push(
        `${p.worker} CPU profile (\`node --cpu-prof\`, first 20 s left out, busy ${f0(p.busyMs)} ms; \`npx tsx bench/top-frames.ts ${p.file} --skip-ms 20000\`):`,
        '',
        table(
          ['self ms', 'share', 'frame'],
          p.frames.slice(0, 15).map((f) => [f0(f.selfMs), pct(f.share), `\`${f.frame}\``]),
        ),
        '',
      );
    }
  }
  return out.join('\n');
}

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

function panel(x0: number, title: string, yLabel: string, series: Series[], logY: boolean): string {
  const w = 440;
  const h = 300;
  const pad = { l: 60, r: 10, t: 30, b: 40 };
  const all = series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
  const maxX = Math.max(1, ...all.map(([x]) => x));
  const ys = all.map(([, y]) => y);
  const maxY = Math.max(1, ...ys);
  const minY = logY ? Math.max(0.1, Math.min(...ys, maxY)) : 0;
  const sx = (x: number) => x0 + pad.l + (x / maxX) * (w - pad.l - pad.r);
  const sy = (y: number) => {
    const t = logY
      ? (Math.log10(Math.max(y, minY)) - Math.log10(minY)) / Math.max(1e-9, Math.log10(maxY) - Math.log10(minY))
      : y / maxY;
    return pad.t + (1 - t) * (h - pad.t - pad.b);
  };
  const parts = [
    `<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`,
    `<line x1="${x0 + pad.l}" y1="${h - pad.b}" x2="${x0 + w - pad.r}" y2="${h - pad.b}" stroke="#333"/>`,
    `<line x1="${x0 + pad.l}" y1="${pad.t}" x2="${x0 + pad.l}" y2="${h - pad.b}" stroke="#333"/>`,
    `<text x="${x0 + w / 2}" y="${h - 8}" text-anchor="middle">offered load (req/s)</text>`,
    `<text x="${x0 + 14}" y="${h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${h / 2})">${yLabel}</text>`,
    `<text x="${x0 + pad.l - 4}" y="${sy(maxY) + 4}" text-anchor="end">${maxY.toFixed(0)}</text>`,
    `<text x="${x0 + pad.l - 4}" y="${sy(minY) + 4}" text-anchor="end">${logY ? minY.toFixed(1) : '0'}</text>`,
    `<text x="${sx(maxX)}" y="${h - pad.b + 14}" text-anchor="end">${maxX.toFixed(0)}</text>`,
  ];
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    if (pts.length === 0) return;
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of pts)
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(
      `<rect x="${x0 + pad.l + 8}" y="${pad.t + 4 + i * 14}" width="10" height="10" fill="${s.color}"/><text x="${x0 + pad.l + 22}" y="${pad.t + 13 + i * 14}">${s.name}</text>`,
    );
  });
  return parts.join('\n');
}

/** A hand-written SVG: achieved throughput and p99 latency versus offered load for every measured curve. */
export function renderSvg(report: BenchReport): string {
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const series: Array<{ name: string; tput: Array<[number, number]>; p99: Array<[number, number]> }> = [];
  // Gateway panels: x = round number (interleaved), y = 2xx/s and p99 per target.
  for (const c of report.gateway !== undefined ? [report.gateway.bare, ...report.gateway.gateways] : []) {
    series.push({
      name: c.name,
      tput: c.okPerSec.rounds.map((v, i) => [i + 1, v]),
      p99: c.p99Ms.rounds.map((v, i) => [i + 1, v]),
    });
  }
  const gatewaySeries = (key: 'tput' | 'p99') =>
    series.map((s, i) => ({ name: s.name, color: colors[i % colors.length] ?? '#000', points: s[key] }));
  const e2e = report.e2e?.points ?? [];
  const e2eSeries = (key: 'tput' | 'p50' | 'p99'): Series[] => [
    {
      name: key === 'tput' ? 'delivered/s' : `202→sink ${key}`,
      color: '#d62728',
      points: e2e.map((p) => [p.offeredPerSec, key === 'tput' ? p.deliveredPerSec : key === 'p50' ? p.p50Ms : p.p99Ms]),
    },
    ...(key === 'tput'
      ? [
          {
            name: 'offered',
            color: '#999',
            points: e2e.map((p): [number, number] => [p.offeredPerSec, p.offeredPerSec]),
          },
        ]
      : []),
  ];
  const body = [
    `<g transform="translate(0,0)">${panel(0, 'Gateway: accepted/s', 'accepted/s', gatewaySeries('tput'), false)}${panel(450, 'Gateway: p99 to 202 (log)', 'ms', gatewaySeries('p99'), true)}</g>`,
    `<g transform="translate(0,310)">${panel(0, 'End to end: delivered/s', 'delivered/s', e2eSeries('tput'), false)}${panel(450, 'End to end: 202→sink latency (log)', 'ms', [...e2eSeries('p50'), ...e2eSeries('p99').map((s) => ({ ...s, color: '#9467bd' }))], true)}</g>`,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="620" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n${body.join('\n')}\n</svg>\n`;
}
