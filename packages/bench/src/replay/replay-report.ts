import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { esc, niceTicks, num, PALETTE, shortNumber } from '../report/svg.js';
import type { PolicyRun } from './replay-run.js';
import { type PolicyResult, type Slo, traceTimes, withinSlo } from './replay-stats.js';

export interface ReplaySettings {
  readonly trace: string;
  readonly window: string;
  readonly speedup: number;
  readonly rateScale: number;
  readonly prefillCount: number;
  readonly decodeCount: number;
  readonly requests: number;
  readonly slo: Slo;
  readonly command: string;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const W = 640;
const H = 360;
const L = 70;
const T = 40;
const PW = W - L - 30;
const PH = H - T - 60;

interface Line {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

/** A one-panel line chart: linear axes from 0, a legend on the right of the title. */
function lineChart(title: string, xLabel: string, yLabel: string, lines: readonly Line[]): string {
  let xMax = 0;
  let yMax = 0;
  for (const l of lines)
    for (const [x, y] of l.points) {
      xMax = Math.max(xMax, x);
      yMax = Math.max(yMax, y);
    }
  const xt = niceTicks(xMax);
  const yt = niceTicks(yMax);
  const xTop = xt.at(-1) as number;
  const yTop = yt.at(-1) as number;
  const px = (x: number): number => L + (x / xTop) * PW;
  const py = (y: number): number => T + PH - (y / yTop) * PH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${L}" y="24" font-size="15" font-weight="600" ${FONT}>${esc(title)}</text>`,
    `<rect x="${L}" y="${T}" width="${PW}" height="${PH}" fill="none" stroke="#d1d5db"/>`,
  ];
  for (const x of xt)
    parts.push(
      `<text x="${num(px(x))}" y="${num(T + PH + 16)}" font-size="11" text-anchor="middle" ${FONT}>${shortNumber(x)}</text>`,
    );
  for (const y of yt)
    parts.push(
      `<line x1="${L}" y1="${num(py(y))}" x2="${L + PW}" y2="${num(py(y))}" stroke="#eef0f3"/>`,
      `<text x="${L - 6}" y="${num(py(y) + 4)}" font-size="11" text-anchor="end" ${FONT}>${shortNumber(y)}</text>`,
    );
  parts.push(
    `<text x="${L + PW / 2}" y="${H - 20}" font-size="12" text-anchor="middle" ${FONT}>${esc(xLabel)}</text>`,
    `<text transform="translate(18,${T + PH / 2}) rotate(-90)" font-size="12" text-anchor="middle" ${FONT}>${esc(yLabel)}</text>`,
  );
  lines.forEach((l, i) => {
    const path = l.points.map(([x, y]) => `${num(px(x))},${num(py(y))}`).join(' ');
    parts.push(
      `<g data-series="${esc(l.name)}"><polyline fill="none" stroke="${l.colour}" stroke-width="2" points="${path}"/></g>`,
      `<text x="${L + PW - 4}" y="${T + 16 + i * 15}" font-size="11" text-anchor="end" fill="${l.colour}" ${FONT}>${esc(l.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** TTFT CDF per policy (x: TTFT in trace ms up to the largest p99; y: fraction of requests). */
export function ttftCdfSvg(runs: readonly PolicyRun[], speedup: number): string {
  const lines: Line[] = runs.map((run, i) => {
    const { ttft } = traceTimes(run, speedup);
    const points: [number, number][] = [];
    const step = Math.max(1, Math.floor(ttft.length / 200));
    for (let k = 0; k < ttft.length; k += step) points.push([ttft[k] as number, (k + 1) / ttft.length]);
    if (ttft.length > 0) points.push([ttft.at(-1) as number, 1]);
    return { name: run.policy, colour: PALETTE[i % PALETTE.length] as string, points };
  });
  return lineChart('TTFT CDF per policy', 'TTFT (ms, trace time)', 'fraction of requests', lines);
}

/** Each worker's load (running + waiting requests) over trace time, prefills solid then decodes. */
export function loadSvg(run: PolicyRun): string {
  const lines: Line[] = [];
  const add = (role: string, workers: PolicyRun['prefills']): void => {
    workers.forEach((w, i) => {
      lines.push({
        name: `${role} ${i}`,
        colour: PALETTE[lines.length % PALETTE.length] as string,
        points: w.load.map((v, k) => [run.sampleTimesS[k] ?? 0, v] as [number, number]),
      });
    });
  };
  add('prefill', run.prefills);
  add('decode', run.decodes);
  return lineChart(
    `Worker load over time: ${run.policy}`,
    'trace time (s)',
    'running + waiting requests',
    lines,
  );
}

/** The markdown report: settings, one row per policy, the charts. */
export function replayMarkdown(
  settings: ReplaySettings,
  runs: readonly PolicyRun[],
  results: Readonly<Record<string, PolicyResult>>,
): string {
  const s = settings;
  const rows = runs.map((run) => {
    const r = results[run.policy] as PolicyResult;
    const slo = withinSlo(run, s.speedup, s.slo);
    return `| ${run.policy} | ${r.requests} | ${r.errors} | ${r.ttft_ms.p50} | ${r.ttft_ms.p90} | ${r.ttft_ms.p99} | ${r.tpot_ms.p50} | ${r.tpot_ms.p99} | ${r.e2e_ms.p99} | ${slo} | ${r.goodput_rps} | ${r.prefix_hit_rate} | ${r.prefill_load_spread} | ${r.decode_load_spread} | ${(run.wallMs / 1000).toFixed(0)} |`;
  });
  return [
    '# pd-bench replay',
    '',
    `Trace \`${s.trace}\`, window ${s.window}, ${s.requests} requests, rate x${s.rateScale}, replayed ${s.speedup}x faster; simulated ${s.prefillCount}P${s.decodeCount}D (mock-vllm performance model). Times are trace time (the speed-up divided out). SLO: TTFT <= ${s.slo.ttftMs} ms, TPOT <= ${s.slo.tpotMs} ms.`,
    '',
    `Command: \`${s.command}\``,
    '',
    '| policy | requests | errors | TTFT p50 | p90 | p99 | TPOT p50 | p99 | E2E p99 | within SLO | goodput (req/s) | prefix hit rate | prefill spread | decode spread | wall s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    "Spread: the busiest worker's time-averaged load (running + waiting requests) over its pool's mean (1 = even).",
    '',
    '![TTFT CDF](ttft-cdf.svg)',
    '',
    ...runs.map((run) => `![load ${run.policy}](load-${fileSafe(run.policy)}.svg)`),
    '',
  ].join('\n');
}

export function fileSafe(name: string): string {
  return name.replace(/[^a-z0-9_-]/gi, '_');
}

/** Writes replay.md, ttft-cdf.svg and one load-POLICY.svg per policy into `dir`. */
export function writeReplayReport(
  dir: string,
  settings: ReplaySettings,
  runs: readonly PolicyRun[],
  results: Readonly<Record<string, PolicyResult>>,
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ttft-cdf.svg'), ttftCdfSvg(runs, settings.speedup));
  for (const run of runs) writeFileSync(join(dir, `load-${fileSafe(run.policy)}.svg`), loadSvg(run));
  const md = join(dir, 'replay.md');
  writeFileSync(md, replayMarkdown(settings, runs, results));
  return md;
}
