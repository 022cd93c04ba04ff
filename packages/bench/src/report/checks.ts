import type { SummaryRow, TargetCheck } from '../types.js';

/**
 * The targets (ratios within one run, so machine noise cancels), evaluated on the
 * router's rows. A target whose scenario was not run is "not measured", never "met".
 */

export const TARGET_THROUGHPUT_RATIO = 0.5;
export const TARGET_ADDED_P50_MS = 0.5;
export const TARGET_CPU_US_PER_REQUEST = 100;
export const TARGET_STREAMS_RSS_MB = 200;

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

  const streams = routerRow(rows, 'streams-1000');
  const rss = streams?.peakRssMb ?? undefined;
  checks.push({
    id: 'streams-rss',
    description: `Peak RSS with ${streams?.point.replace('c=', '') ?? '1000'} open streams ≤ ${TARGET_STREAMS_RSS_MB} MB`,
    value: rss === undefined ? '-' : `${fmt(rss, 1)} MB`,
    status: rss === undefined ? 'not measured' : rss <= TARGET_STREAMS_RSS_MB ? 'met' : 'missed',
  });

  const routerRows = rows.filter((r) => r.targetKind === 'router');
  const errors = routerRows.reduce((n, r) => n + r.failed + r.unfinished, 0);
  checks.push({
    id: 'no-errors',
    description: 'No errors through the router, in any scenario',
    value: routerRows.length === 0 ? '-' : `${errors} errors`,
    status: routerRows.length === 0 ? 'not measured' : errors === 0 ? 'met' : 'missed',
  });
  return checks;
}
