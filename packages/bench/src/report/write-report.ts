import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../types.js';
import { renderMarkdown } from './markdown.js';
import { renderChart } from './svg-chart.js';

export interface WrittenReport {
  readonly json: string;
  readonly markdown: string;
  readonly svg: string;
}

/**
 * Writes `results.json` (everything, histograms included; compact), `results.md` and `throughput.svg`.
 * @example const { markdown } = writeReport(report, 'bench-results');
 */
export function writeReport(report: BenchReport, outDir: string): WrittenReport {
  mkdirSync(outDir, { recursive: true });
  const paths = {
    json: join(outDir, 'results.json'),
    markdown: join(outDir, 'results.md'),
    svg: join(outDir, 'throughput.svg'),
  };
  // Compact: the histograms make an indented file five times larger for no reader's benefit.
  writeFileSync(paths.json, `${JSON.stringify(report)}\n`);
  writeFileSync(paths.markdown, renderMarkdown(report));
  writeFileSync(paths.svg, renderChart(report));
  return paths;
}
