import type { PolicyRun, WorkerTrace } from './replay-run.js';

/** One policy's line of `--json`'s `results` (times in trace milliseconds). */
export interface PolicyResult {
  readonly requests: number;
  readonly errors: number;
  readonly ttft_ms: { readonly p50: number; readonly p90: number; readonly p99: number };
  readonly tpot_ms: { readonly p50: number; readonly p99: number };
  readonly e2e_ms: { readonly p50: number; readonly p99: number };
  readonly goodput_rps: number;
  readonly prefix_hit_rate: number;
  readonly prefill_load_spread: number;
  readonly decode_load_spread: number;
}

export interface Slo {
  readonly ttftMs: number;
  readonly tpotMs: number;
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * Load spread of a pool: the busiest worker's time-averaged load (running + waiting requests) over
 * the pool's mean; 1 = perfectly even, N = all on one of N workers. 1 when the pool was idle.
 */
export function loadSpread(workers: readonly WorkerTrace[]): number {
  const means = workers.map((w) =>
    w.load.length === 0 ? 0 : w.load.reduce((a, b) => a + b, 0) / w.load.length,
  );
  const mean = means.reduce((a, b) => a + b, 0) / Math.max(means.length, 1);
  return mean === 0 ? 1 : Math.max(...means) / mean;
}

/**
 * The per-request times of a run in trace milliseconds (wall x speedup): TTFT, TPOT (time after the
 * first token over the tokens after it) and end-to-end, for requests that succeeded.
 */
export function traceTimes(run: PolicyRun, speedup: number) {
  const ttft: number[] = [];
  const tpot: number[] = [];
  const e2e: number[] = [];
  const ok: { ttft: number; tpot: number | undefined }[] = [];
  for (const r of run.outcomes) {
    if (r.error !== undefined || r.ttftMs === undefined || r.e2eMs === undefined) continue;
    const t = r.ttftMs * speedup;
    const total = r.e2eMs * speedup;
    const perToken = r.tokens > 1 ? (total - t) / (r.tokens - 1) : undefined;
    ttft.push(t);
    e2e.push(total);
    if (perToken !== undefined) tpot.push(perToken);
    ok.push({ ttft: t, tpot: perToken });
  }
  const asc = (a: number, b: number): number => a - b;
  return { ttft: ttft.sort(asc), tpot: tpot.sort(asc), e2e: e2e.sort(asc), ok };
}

/**
 * A run's summary. Goodput: requests within both SLOs per trace second, from the first send to the
 * last answer. Prefix hit rate: prompt tokens found in the prefills' caches over those looked up.
 */
export function summarize(run: PolicyRun, speedup: number, slo: Slo): PolicyResult {
  const { ttft, tpot, e2e, ok } = traceTimes(run, speedup);
  const within = ok.filter(
    (r) => r.ttft <= slo.ttftMs && (r.tpot === undefined || r.tpot <= slo.tpotMs),
  ).length;
  let end = 0;
  for (const r of run.outcomes) end = Math.max(end, r.sentAtMs + (r.e2eMs ?? 0));
  const spanS = (end * speedup) / 1000;
  const queries = run.prefills.reduce((a, w) => a + w.prefixQueries, 0);
  const hits = run.prefills.reduce((a, w) => a + w.prefixHits, 0);
  return {
    requests: run.outcomes.length,
    errors: run.outcomes.filter((r) => r.error !== undefined).length,
    ttft_ms: {
      p50: round(percentile(ttft, 50)),
      p90: round(percentile(ttft, 90)),
      p99: round(percentile(ttft, 99)),
    },
    tpot_ms: { p50: round(percentile(tpot, 50), 2), p99: round(percentile(tpot, 99), 2) },
    e2e_ms: { p50: round(percentile(e2e, 50)), p99: round(percentile(e2e, 99)) },
    goodput_rps: spanS === 0 ? 0 : round(within / spanS, 3),
    prefix_hit_rate: queries === 0 ? 0 : round(hits / queries, 4),
    prefill_load_spread: round(loadSpread(run.prefills), 2),
    decode_load_spread: round(loadSpread(run.decodes), 2),
  };
}

/** A request within both SLOs (a one-token answer has no TPOT to miss). */
function meetsSlo(r: { readonly ttft: number; readonly tpot: number | undefined }, slo: Slo): boolean {
  return r.ttft <= slo.ttftMs && (r.tpot === undefined || r.tpot <= slo.tpotMs);
}

/** Requests within both SLOs (for the report's "within SLO" column). */
export function withinSlo(run: PolicyRun, speedup: number, slo: Slo): number {
  return traceTimes(run, speedup).ok.filter((r) => meetsSlo(r, slo)).length;
}
