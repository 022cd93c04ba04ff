import { Histogram } from '../stats/histogram.js';
import type { BenchReport, RunResult, SummaryRow } from '../types.js';
import { decadeTicks, esc, FLOOR_COLOUR, niceTicks, num, PALETTE, shortNumber } from './svg.js';

/**
 * The headline chart, two panels side by side: throughput against concurrency per target, and
 * the latency distribution (HDR-style percentile curve) per target at one load level.
 */

export interface Series {
  readonly name: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

interface Panel {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** The two panels side by side, GAP apart, with a 40 px margin on the right. */
const LEFT_PANEL: Panel = { x: 70, y: 90, width: 390, height: 290 };
const GAP = 100;
const RIGHT_PANEL: Panel = { ...LEFT_PANEL, x: LEFT_PANEL.x + LEFT_PANEL.width + GAP };
const WIDTH = RIGHT_PANEL.x + RIGHT_PANEL.width + 40;
const HEIGHT = 430;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
/** Percentiles on the latency panel: 0 to 99.9 on a 1/(1−p) scale, plus the maximum. */
const PERCENTILE_STEPS = 60;
const MAX_NINES = 3;

function colours(names: readonly string[], kinds: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (const name of names) {
    out.set(name, kinds.get(name) === 'floor' ? FLOOR_COLOUR : PALETTE[i++ % PALETTE.length]!);
  }
  return out;
}

function polyline(
  series: Series,
  project: (p: readonly [number, number]) => [number, number],
  markers: boolean,
): string {
  const pts = series.points.map(project);
  const path = pts.map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
  const dots = markers
    ? pts.map(([x, y]) => `<circle cx="${num(x)}" cy="${num(y)}" r="3.5" fill="${series.colour}"/>`).join('')
    : '';
  return (
    `<g data-series="${esc(series.name)}"><polyline fill="none" stroke="${series.colour}" stroke-width="2.5" ` +
    `stroke-linejoin="round" points="${path}"/>${dots}</g>`
  );
}

function frame(panel: Panel, title: string, xLabel: string, yLabel: string): string {
  const { x, y, width, height } = panel;
  return (
    `<text x="${num(x)}" y="${num(y - 16)}" font-size="15" font-weight="600" ${FONT}>${esc(title)}</text>` +
    `<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" fill="none" stroke="#d1d5db"/>` +
    `<text x="${num(x + width / 2)}" y="${num(y + height + 40)}" font-size="12" text-anchor="middle" ${FONT}>${esc(xLabel)}</text>` +
    `<text transform="translate(${num(x - 52)},${num(y + height / 2)}) rotate(-90)" font-size="12" ` +
    `text-anchor="middle" ${FONT}>${esc(yLabel)}</text>`
  );
}

function gridLine(x1: number, y1: number, x2: number, y2: number): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="#eef0f3"/>`;
}

function tickLabel(x: number, y: number, text: string, anchor: 'middle' | 'end'): string {
  return `<text x="${num(x)}" y="${num(y)}" font-size="11" fill="#4b5563" text-anchor="${anchor}" ${FONT}>${esc(text)}</text>`;
}

/** Throughput (req/s, linear) against concurrency (log₂ positions). */
export function throughputPanel(panel: Panel, title: string, series: readonly Series[]): string {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const yTicks = niceTicks(maxY);
  const yTop = yTicks[yTicks.length - 1]!;
  const lo = Math.log2(Math.max(1, xs[0] ?? 1));
  const hi = Math.log2(Math.max(1, xs[xs.length - 1] ?? 1));
  const px = (v: number): number =>
    hi === lo
      ? panel.x + panel.width / 2
      : panel.x + 20 + ((Math.log2(v) - lo) / (hi - lo)) * (panel.width - 40);
  const py = (v: number): number => panel.y + panel.height - (v / yTop) * panel.height;
  let out = frame(panel, title, 'concurrent requests', 'requests per second');
  for (const t of yTicks) {
    out += gridLine(panel.x, py(t), panel.x + panel.width, py(t));
    out += tickLabel(panel.x - 6, py(t) + 4, shortNumber(t), 'end');
  }
  for (const v of xs) out += tickLabel(px(v), panel.y + panel.height + 16, String(v), 'middle');
  for (const s of series) out += polyline(s, ([x, y]) => [px(x), py(y)], true);
  return out;
}

/** Latency (ms, log₁₀) against percentile (1/(1−p) scale, 0 to 99.9%, then max). */
export function latencyPanel(panel: Panel, title: string, series: readonly Series[]): string {
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  const ticks = decadeTicks(Math.min(...values, 1), Math.max(...values, 1));
  const lo = Math.log10(ticks[0]!);
  const hi = Math.log10(ticks[ticks.length - 1]!);
  const px = (nines: number): number => panel.x + (nines / MAX_NINES) * panel.width;
  const py = (ms: number): number =>
    panel.y +
    panel.height -
    ((Math.log10(Math.max(ms, ticks[0]!)) - lo) / Math.max(hi - lo, 1e-9)) * panel.height;
  let out = frame(panel, title, 'percentile', 'latency (ms, log scale)');
  for (const t of ticks) {
    out += gridLine(panel.x, py(t), panel.x + panel.width, py(t));
    out += tickLabel(panel.x - 6, py(t) + 4, shortNumber(t), 'end');
  }
  for (const [nines, label] of [
    [0, '0%'],
    [1, '90%'],
    [2, '99%'],
    [3, '99.9%'],
  ] as const) {
    out += gridLine(px(nines), panel.y, px(nines), panel.y + panel.height);
    out += tickLabel(px(nines), panel.y + panel.height + 16, label, 'middle');
  }
  for (const s of series) out += polyline(s, ([x, y]) => [px(x), py(y)], false);
  return out;
}

/** The percentile curve of a histogram as [nines, ms] points (nines = −log₁₀(1 − p)). */
export function percentileCurve(h: Histogram): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 0; i <= PERCENTILE_STEPS; i++) {
    const nines = (i / PERCENTILE_STEPS) * MAX_NINES;
    const p = 100 * (1 - 10 ** -nines);
    points.push([nines, h.percentile(p) / 1000]);
  }
  return points;
}

function legend(
  x: number,
  y: number,
  names: readonly string[],
  palette: ReadonlyMap<string, string>,
): string {
  let out = '';
  let cx = x;
  for (const name of names) {
    const colour = palette.get(name)!;
    out += `<rect x="${num(cx)}" y="${num(y - 10)}" width="14" height="4" fill="${colour}"/>`;
    out += `<text x="${num(cx + 20)}" y="${num(y - 5)}" font-size="13" ${FONT}>${esc(name)}</text>`;
    cx += 40 + name.length * 8;
  }
  return out;
}

/** The scenario for the throughput panel: chat-short if run, else the one with most load levels. */
function sweepScenario(rows: readonly SummaryRow[]): string | undefined {
  if (rows.some((r) => r.scenario === 'chat-short')) return 'chat-short';
  const counts = new Map<string, number>();
  for (const r of rows)
    if (r.shape.mode === 'closed') counts.set(r.scenario, (counts.get(r.scenario) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function mergedLatency(
  runs: readonly RunResult[],
  scenario: string,
  point: string,
  target: string,
): Histogram {
  const h = new Histogram();
  for (const r of runs) {
    if (r.scenario === scenario && r.point === point && r.target === target)
      h.merge(Histogram.fromJSON(r.latency));
  }
  return h;
}

/**
 * The whole chart as a standalone SVG document.
 *
 * @example writeFileSync('throughput.svg', renderChart(report));
 */
export function renderChart(report: BenchReport): string {
  const targets = report.settings.targets.map((t) => t.name);
  const palette = colours(targets, new Map(report.settings.targets.map((t) => [t.name, t.kind])));
  const scenario = sweepScenario(report.summary);
  const rows = report.summary.filter((r) => r.scenario === scenario && r.shape.mode === 'closed');
  const throughput: Series[] = targets.map((name) => ({
    name,
    colour: palette.get(name)!,
    points: rows
      .filter((r) => r.target === name && r.shape.mode === 'closed')
      .map((r) => [r.shape.mode === 'closed' ? r.shape.concurrency : 0, r.requestsPerS] as const)
      .sort((a, b) => a[0] - b[0]),
  }));
  // Latency at c=64 when it exists, else at the highest load level of the sweep.
  const points = [...new Set(rows.map((r) => r.point))];
  const point = points.includes('c=64') ? 'c=64' : points[points.length - 1];
  const latency: Series[] =
    scenario === undefined || point === undefined
      ? []
      : targets.map((name) => ({
          name,
          colour: palette.get(name)!,
          points: percentileCurve(mergedLatency(report.runs, scenario, point, name)),
        }));
  const left = LEFT_PANEL;
  const right = RIGHT_PANEL;
  const m = report.machine;
  const subtitle = `${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}, mock preset ${report.settings.preset}, ${report.startedAt.slice(0, 10)}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">` +
    `<title>pd-router benchmark: throughput and latency against the floor</title>` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>` +
    `<text x="${LEFT_PANEL.x}" y="24" font-size="13" fill="#4b5563" ${FONT}>${esc(subtitle)}</text>` +
    legend(LEFT_PANEL.x, 50, targets, palette) +
    throughputPanel(left, `Throughput, ${scenario ?? 'no sweep'}`, throughput) +
    latencyPanel(right, `Latency distribution, ${scenario ?? '-'} ${point ?? ''}`.trim(), latency) +
    '</svg>\n'
  );
}
