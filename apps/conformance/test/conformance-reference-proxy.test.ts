import { createConformanceChecker } from '@pd-router/mock-vllm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PASS,
  HEADER_LINE,
  lastLine,
  REFERENCE_FIXTURES,
  requireBuilt,
  runApp,
  tableRows,
} from './helpers.js';

// The whole golden set against the real built router: what `pnpm conformance` and CI run.
describe('conformance app over fixtures/reference-proxy', () => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: 90_000 }, async () => {
    const targets = createConformanceChecker(REFERENCE_FIXTURES).cases.map((c) => c.name);
    const run = await runApp([], 80_000);
    const rows = tableRows(run.stdout);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect([...rows.keys()].sort()).toEqual([...targets].sort());
    expect(run.stdout).toMatch(HEADER_LINE);
    for (const marks of rows.values()) expect(marks).toEqual(ALL_PASS);
    expect(lastLine(run.stdout)).toBe(`${targets.length} passed, 0 failed`);
  });
});
