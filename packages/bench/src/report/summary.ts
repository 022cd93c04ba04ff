import { Histogram } from '../stats/histogram.js';
import type { Percentiles, RunResult, SummaryRow } from '../types.js';

/**
 * Combines the rounds of each (scenario, load level, target): histograms merged, throughput as
 * total successes over total measured time, CPU as total CPU over total requests, peak RSS as
 * the highest peak. Then each row is compared with the floor at the same scenario and level.
 */

const MB = 1024 * 1024;

function percentilesMs(h: Histogram): Percentiles {
  return {
    p50: h.percentile(50) / 1000,
    p90: h.percentile(90) / 1000,
    p99: h.percentile(99) / 1000,
    max: h.max / 1000,
    mean: h.mean / 1000,
  };
}

function key(run: Pick<RunResult, 'scenario' | 'point' | 'target'>): string {
  return `${run.scenario}\u0000${run.point}\u0000${run.target}`;
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  let total = 0;
  for (const v of values) {
    if (v === null) return null;
    total += v;
  }
  return total;
}

function combine(runs: readonly RunResult[]): Omit<SummaryRow, 'vsFloor'> {
  const first = runs[0]!;
  const latency = new Histogram();
  const ttft = new Histogram();
  const itl = new Histogram();
  const errors: Record<string, number> = {};
  const counts = { ok: 0, failed: 0, unfinished: 0, elapsedMs: 0, tokens: 0, generatorCpuMs: 0 };
  let peak: number | null = null;
  for (const run of runs) {
    latency.merge(Histogram.fromJSON(run.latency));
    ttft.merge(Histogram.fromJSON(run.ttft));
    itl.merge(Histogram.fromJSON(run.itl));
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] += run[k];
    for (const [kind, n] of Object.entries(run.errors)) errors[kind] = (errors[kind] ?? 0) + n;
    if (run.targetPeakRssBytes !== null) peak = Math.max(peak ?? 0, run.targetPeakRssBytes);
  }
  const { ok, failed, unfinished, elapsedMs, tokens, generatorCpuMs } = counts;
  const requests = Math.max(1, ok + failed);
  const targetCpuMs = sumOrNull(runs.map((r) => r.targetCpuMs));
  const targetSystemCpuMs = sumOrNull(runs.map((r) => r.targetSystemCpuMs));
  const mockCpuMs = sumOrNull(runs.map((r) => r.mockCpuMs));
  const seconds = Math.max(elapsedMs, 1) / 1000;
  return {
    scenario: first.scenario,
    point: first.point,
    shape: first.shape,
    target: first.target,
    targetKind: first.targetKind,
    rounds: runs.length,
    requestsPerS: ok / seconds,
    requestsPerSByRound: runs.map((r) => r.requestsPerS),
    tokensPerS: tokens / seconds,
    latencyMs: percentilesMs(latency),
    ttftMs: ttft.count === 0 ? null : percentilesMs(ttft),
    // Back-to-back tokens arrive several to a read: their gaps say how reads batch, not how the
    // target paces a stream, so they are not reported as inter-token latency.
    itlMs: itl.count === 0 || first.mockInterTokenMs === 0 ? null : percentilesMs(itl),
    mockInterTokenMs: first.mockInterTokenMs,
    cpuUsPerRequest: targetCpuMs === null ? null : (targetCpuMs * 1000) / requests,
    systemCpuUsPerRequest: targetSystemCpuMs === null ? null : (targetSystemCpuMs * 1000) / requests,
    peakRssMb: peak === null ? null : peak / MB,
    mockCpuUsPerRequest: mockCpuMs === null ? null : (mockCpuMs * 1000) / requests,
    generatorCpuUsPerRequest: (generatorCpuMs * 1000) / requests,
    ok,
    failed,
    unfinished,
    errors,
  };
}

/**
 * @example
 * const rows = summarize(report.runs);
 * rows.find((r) => r.target === 'pd-router' && r.point === 'c=64')?.vsFloor?.throughputRatio;
 */
export function summarize(runs: readonly RunResult[]): SummaryRow[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const k = key(run);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [run]);
    else group.push(run);
  }
  const rows = [...groups.values()].map(combine);
  const floors = new Map<string, Omit<SummaryRow, 'vsFloor'>>();
  for (const row of rows) {
    if (row.targetKind === 'floor') floors.set(`${row.scenario}\u0000${row.point}`, row);
  }
  return rows.map((row) => {
    const floor = floors.get(`${row.scenario}\u0000${row.point}`);
    if (floor === undefined || row.targetKind === 'floor') return { ...row, vsFloor: null };
    return {
      ...row,
      vsFloor: {
        throughputRatio: floor.requestsPerS > 0 ? row.requestsPerS / floor.requestsPerS : 0,
        addedP50Ms: row.latencyMs.p50 - floor.latencyMs.p50,
        addedTtftP50Ms:
          row.ttftMs === null || floor.ttftMs === null ? null : row.ttftMs.p50 - floor.ttftMs.p50,
      },
    };
  });
}
