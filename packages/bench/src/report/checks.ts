import type { SummaryRow, TargetCheck } from '../types.js';

/**
 * The issue's targets (ratios within one run, so machine noise cancels), evaluated on the
 * router's rows, except "no errors", which counts every target's. A target whose scenario did not
 * run at the issue's load is "not measured", never "met".
 */

export const TARGET_THROUGHPUT_RATIO = 0.5;
export const TARGET_ADDED_P50_MS = 0.5;
export const TARGET_CPU_US_PER_REQUEST = 100;
export const TARGET_STREAMS_RSS_MB = 200;
/** Open streams the RSS target is defined for. */
export const STREAMS_OPEN = 1_000;

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function fmt(n: number, digits: number): string {
  return n.toFixed(digits);
}

function routerRow(rows: readonly SummaryRow[], scenario: string, point?: string): SummaryRow | undefined {
  return rows.find(
    (r) => r.targetKind === 'router' && r.scenario === scenario && (point === undefined || r.point === point),
  );
}

/**
 * @example
 * for (const c of checkTargets(summary)) console.log(c.status, c.description, c.value);
 */
export function checkTargets(rows: readonly SummaryRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const c64 = routerRow(rows, 'chat-short', 'c=64');
  const ratio = c64?.vsFloor?.throughputRatio;
  checks.push({
    id: 'throughput-c64',
    description: `Throughput at concurrency 64 ≥ ${TARGET_THROUGHPUT_RATIO * 100}% of the floor`,
    value: ratio === undefined ? '-' : `${fmt(ratio * 100, 1)}%`,
    status: ratio === undefined ? 'not measured' : ratio >= TARGET_THROUGHPUT_RATIO ? 'met' : 'missed',
  });

  const added = routerRow(rows, 'chat-short', 'c=1')?.vsFloor?.addedP50Ms;
  checks.push({
    id: 'added-p50-c1',
    description: `Added p50 latency over the floor at concurrency 1 ≤ ${TARGET_ADDED_P50_MS} ms`,
    value: added === undefined ? '-' : `${fmt(added, 3)} ms`,
    status: added === undefined ? 'not measured' : added <= TARGET_ADDED_P50_MS ? 'met' : 'missed',
  });

  const cpu = c64?.cpuUsPerRequest ?? undefined;
  checks.push({
    id: 'cpu-per-request',
    description: `Router CPU per request (short chat, c=64) ≤ ${TARGET_CPU_US_PER_REQUEST} µs`,
    value: cpu === undefined ? '-' : `${fmt(cpu, 0)} µs`,
    status: cpu === undefined ? 'not measured' : cpu <= TARGET_CPU_US_PER_REQUEST ? 'met' : 'missed',
  });

  // The issue's load is 1,000 streams; a peak measured on fewer (`--quick`, `--concurrency`) says
  // nothing about it, so it is shown but not judged.
  const issueLoad = `c=${STREAMS_OPEN}`;
  const streams = routerRow(rows, 'streams-1000', issueLoad) ?? routerRow(rows, 'streams-1000');
  const rss = streams?.peakRssMb ?? undefined;
  const atIssueLoad = streams?.point === issueLoad;
  checks.push({
    id: 'streams-rss',
    description: `Peak RSS with ${formatCount(STREAMS_OPEN)} open streams ≤ ${TARGET_STREAMS_RSS_MB} MB`,
    value:
      rss === undefined
        ? '-'
        : atIssueLoad
          ? `${fmt(rss, 1)} MB`
          : `${fmt(rss, 1)} MB at ${streams?.point} only`,
    status:
      rss === undefined || !atIssueLoad ? 'not measured' : rss <= TARGET_STREAMS_RSS_MB ? 'met' : 'missed',
  });

  // Errors of every target count: an error of the floor or of another proxy means the mocks or
  // the generator failed too, and the run's comparisons rest on them.
  const byTarget = new Map<string, number>();
  for (const r of rows) byTarget.set(r.target, (byTarget.get(r.target) ?? 0) + r.failed + r.unfinished);
  const errors = [...byTarget.values()].reduce((a, b) => a + b, 0);
  const culprits = [...byTarget].filter(([, n]) => n > 0).map(([target, n]) => `${target} ${n}`);
  checks.push({
    id: 'no-errors',
    description: 'No errors, in any scenario, through any target',
    value:
      rows.length === 0
        ? '-'
        : `${errors} error${errors === 1 ? '' : 's'}${culprits.length === 0 ? '' : ` (${culprits.join(', ')})`}`,
    status: rows.length === 0 ? 'not measured' : errors === 0 ? 'met' : 'missed',
  });
  return checks;
}
