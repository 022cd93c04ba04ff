import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH } from '../src/report/recorder.js';
import { docScenarioKeys, scenarioKey } from '../src/report/render.js';
import { SCENARIOS } from '../src/scenarios/catalogue.js';

// The `report` run rewrites the doc after the suite: comparing it with the old one there is moot.
const regenerating = process.env['RELIABILITY_WRITE_DOC'] === '1';

describe('docs/reliability.md', () => {
  it.skipIf(regenerating)(
    "lists exactly the suite's scenarios, with the same expectations (regenerate: pnpm --filter @pd-router/reliability report)",
    () => {
      let doc = '';
      try {
        doc = readFileSync(DOC_PATH, 'utf8');
      } catch {
        expect.fail(`${DOC_PATH} is missing: run pnpm --filter @pd-router/reliability report`);
      }
      expect(docScenarioKeys(doc)).toEqual(SCENARIOS.map(scenarioKey));
    },
  );

  it('has unique scenario ids', () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
