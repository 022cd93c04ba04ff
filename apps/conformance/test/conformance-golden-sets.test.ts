import { readdirSync } from 'node:fs';
import { createConformanceChecker } from '@pd-router/mock-vllm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PASS,
  HEADER_LINE,
  lastLine,
  NIXL_FIXTURES,
  REFERENCE_FIXTURES,
  requireBuilt,
  runApp,
  tableRows,
} from './helpers.js';

interface GoldenSet {
  readonly fixtures: string;
  readonly args: readonly string[];
  /** The case names the run must report, from the fixtures themselves. */
  targets(): string[];
  readonly runMs: number;
}

// Each golden set against the real built router: the reference-proxy set is what `pnpm conformance`
// runs; the NIXL set (vLLM's NIXL toy proxy) is run with --kv-connector nixl. CI runs both.
const SETS: readonly GoldenSet[] = [
  {
    fixtures: 'fixtures/reference-proxy',
    args: [],
    targets: () => createConformanceChecker(REFERENCE_FIXTURES).cases.map((c) => c.name),
    runMs: 80_000,
  },
  {
    fixtures: 'fixtures/nixl-toy-proxy',
    args: ['--fixtures', 'fixtures/nixl-toy-proxy'],
    targets: () => {
      const names = readdirSync(NIXL_FIXTURES, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
      expect(names.length).toBeGreaterThanOrEqual(35);
      return names;
    },
    runMs: 110_000,
  },
];

describe.each(SETS)('conformance app over $fixtures', (set) => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: set.runMs + 10_000 }, async () => {
    const targets = set.targets();
    const run = await runApp(set.args, set.runMs);
    const rows = tableRows(run.stdout);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect([...rows.keys()].sort()).toEqual([...targets].sort());
    expect(run.stdout).toMatch(HEADER_LINE);
    for (const marks of rows.values()) expect(marks).toEqual(ALL_PASS);
    expect(lastLine(run.stdout)).toBe(`${targets.length} passed, 0 failed`);
  });
});
