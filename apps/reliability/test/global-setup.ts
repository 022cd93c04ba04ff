import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { clearResults, DOC_PATH, MERGED_RESULTS_PATH, readResults } from '../src/report/recorder.js';
import { renderReport } from '../src/report/render.js';
import { SCENARIOS } from '../src/scenarios/catalogue.js';
import { fuzzRuns } from '../src/scenarios/fuzz.js';
import { closedLoopSeconds } from '../src/scenarios/load.js';

/**
 * Before the run: forget earlier results. After it: merge what every test file recorded into
 * .vitest/reliability-results.json, and with RELIABILITY_WRITE_DOC=1 (the `report` script) rewrite
 * docs/reliability.md from it, which needs a result for every scenario (a full, green run).
 */
export default function setup(): () => void {
  clearResults();
  return () => {
    const results = readResults();
    const missing = SCENARIOS.filter((s) => !results.has(s.id)).map((s) => s.id);
    writeFileSync(
      MERGED_RESULTS_PATH,
      `${JSON.stringify({ missing, results: [...results.values()] }, null, 2)}\n`,
    );
    if (process.env['RELIABILITY_WRITE_DOC'] !== '1') return;
    if (missing.length > 0) {
      throw new Error(
        `docs/reliability.md not written: ${missing.length} scenarios have no result (${missing.slice(0, 5).join(', ')}...)`,
      );
    }
    const run = {
      date: new Date().toISOString().slice(0, 10),
      node: process.versions.node,
      cpus: cpus().length,
      loadAverage: loadavg(),
      closedLoopSeconds: closedLoopSeconds(),
      fuzzRuns: `${fuzzRuns('canonicalizer')} (canonicalizer) / ${fuzzRuns('server')} (server)`,
    };
    writeFileSync(DOC_PATH, renderReport(SCENARIOS, results, run));
    process.stdout.write(`wrote ${DOC_PATH}\n`);
  };
}
