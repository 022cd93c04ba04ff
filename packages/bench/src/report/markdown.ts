import type { BenchReport, Percentiles, SummaryRow } from '../types.js';

/**
 * The human report: machine, settings, the issue's targets, and one table per scenario with a row
 * per (load level, target). Numbers are rounded for reading; the JSON file keeps them exact.
 */

/** Milliseconds with about three significant digits (`0.412`, `1.25`, `37.4`, `912`). */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(3);
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** An integer with thousands separators (`12,345`). */
export function formatInt(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatSigned(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${formatMs(Math.abs(ms))}`;
}

function errorsCell(row: SummaryRow): string {
  const kinds = Object.entries(row.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind}×${n}`);
  let cell = row.failed === 0 ? '0' : `${formatInt(row.failed)} (${kinds.join(', ')})`;
  if (row.unfinished > 0) cell += `, ${formatInt(row.unfinished)} cut off`;
  return cell;
}

function percentilesCell(p: Percentiles | null): string {
  return p === null ? '-' : `${formatMs(p.p50)} / ${formatMs(p.p99)}`;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

const HEADER =
  '| load | target | req/s | p50 ms | p90 ms | p99 ms | max ms | TTFT p50/p99 ms | ITL p50/p99 ms | tokens/s | CPU µs/req (sys) | peak RSS MB | errors | vs floor: req/s · added p50 |';
const RULE =
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |';

/** One scenario's rows as a markdown table (rows in load order, targets in run order). */
export function renderScenarioTable(rows: readonly SummaryRow[]): string {
  const lines = [HEADER, RULE];
  for (const row of rows) {
    const vs =
      row.vsFloor === null
        ? '-'
        : `${(row.vsFloor.throughputRatio * 100).toFixed(0)}% · ${formatSigned(row.vsFloor.addedP50Ms)} ms`;
    const cells = [
      row.point,
      row.target,
      formatInt(row.requestsPerS),
      formatMs(row.latencyMs.p50),
      formatMs(row.latencyMs.p90),
      formatMs(row.latencyMs.p99),
      formatMs(row.latencyMs.max),
      percentilesCell(row.ttftMs),
      percentilesCell(row.itlMs),
      row.tokensPerS > 0 ? formatInt(row.tokensPerS) : '-',
      row.cpuUsPerRequest === null
        ? '-'
        : `${formatInt(row.cpuUsPerRequest)} (${formatInt(row.systemCpuUsPerRequest ?? 0)})`,
      row.peakRssMb === null ? '-' : row.peakRssMb.toFixed(1),
      errorsCell(row),
      vs,
    ];
    lines.push(`| ${cells.map(escapeCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * The whole report as markdown.
 *
 * @example writeFileSync('results.md', renderMarkdown(report));
 */
export function renderMarkdown(report: BenchReport): string {
  const { machine, settings } = report;
  const out: string[] = [];
  out.push('# pd-router benchmark results', '');
  out.push(
    `Measured ${report.startedAt} on ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGb} GB, ` +
      `Node ${machine.node}, ${machine.platform}, kernel ${machine.kernel}; load average at start ` +
      `${machine.loadAverage.join(' / ')}.`,
    '',
  );
  out.push(
    `Settings: ${settings.rounds} round(s) of ${settings.durationMs / 1000} s per load level after ` +
      `${settings.warmupMs / 1000} s of warm-up, mock preset \`${settings.preset}\`` +
      `${settings.kvConnector === undefined ? '' : `, KV connector \`${settings.kvConnector}\``}` +
      `${settings.quick ? ', quick mode' : ''}. Targets, alternated in this order each round: ` +
      `${settings.targets.map((t) => `\`${t.name}\` (${t.kind})`).join(', ')}.`,
    '',
  );
  for (const t of settings.targets) {
    if (t.command !== undefined) out.push(`- \`${t.name}\`: \`${t.command}\``);
  }
  if (settings.targets.some((t) => t.command !== undefined)) out.push('');
  out.push(`Command: \`${report.command}\``, '');

  if (report.checks.some((c) => c.status !== 'not measured')) {
    out.push('## Targets', '', '| target | measured | status |', '| --- | ---: | --- |');
    for (const c of report.checks) out.push(`| ${c.description} | ${c.value} | ${c.status} |`);
    out.push('');
  }

  const scenarios = [...new Set(report.summary.map((r) => r.scenario))];
  for (const name of scenarios) {
    const rows = report.summary.filter((r) => r.scenario === name);
    out.push(`## ${name}`, '', renderScenarioTable(rows), '');
  }
  out.push(
    'Columns: req/s counts successful requests over measured time; latency is per whole request ' +
      '(for the floor: prefill then decode); TTFT is the time to the first token event of a stream; ' +
      'ITL (inter-token latency) is the gap between two token events of a stream as received, shown ' +
      'only where the mocks pace their tokens: with back-to-back tokens (the `instant` preset, ' +
      'interTokenMs 0) several events arrive in one read, the gaps measure read batching and the ' +
      'cell is "-"; ' +
      'CPU µs/req (user + system, the system part in parentheses: syscalls and, on loopback, the TCP ' +
      'stack of both ends of each write) and peak RSS are of the target process tree, read from /proc ' +
      '(peak reset before each run); "vs floor" compares with the floor at the same load.',
    '',
  );
  return out.join('\n');
}
