import { describe, expect, it } from 'vitest';
import { docScenarioKeys, renderReport, scenarioKey } from './render.js';
import type { Scenario, ScenarioResult } from './scenario.js';

const scenarios: Scenario[] = [
  { id: 'faults/a', group: 'faults', title: 'a | pipe', expect: '502 `PD_ERR_X`' },
  { id: 'load/b', group: 'load', title: 'b', expect: 'no error' },
];
const results = new Map<string, ScenarioResult>([
  ['faults/a', { id: 'faults/a', observed: '502 `PD_ERR_X`', timeMs: 3, after: '0 in flight' }],
  ['load/b', { id: 'load/b', observed: 'no error', metrics: { p99Ms: 12 } }],
]);
const run = {
  date: '2026-01-01',
  node: '20',
  cpus: 2,
  loadAverage: [1, 2, 3],
  closedLoopSeconds: 10,
  fuzzRuns: '1',
};

describe('renderReport and docScenarioKeys', () => {
  it('round-trips the scenario rows (pipes escaped), ignoring the metrics table', () => {
    const doc = renderReport(scenarios, results, run);
    expect(docScenarioKeys(doc)).toEqual(scenarios.map(scenarioKey));
    expect(doc).toContain('| load/b | 12 |');
  });

  it('refuses to render without a result for every scenario', () => {
    expect(() => renderReport(scenarios, new Map(), run)).toThrow(/no result for: faults\/a, load\/b/);
  });
});
