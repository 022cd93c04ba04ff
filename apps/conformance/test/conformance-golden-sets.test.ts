import { createConformanceChecker } from '@pd-router/mock-vllm';
import { beforeAll, describe, it } from 'vitest';
import { caseDirs, expectAllPass, NIXL_FIXTURES, REFERENCE_FIXTURES, requireBuilt } from './helpers.js';

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
    targets: () => caseDirs(NIXL_FIXTURES, 35),
    runMs: 110_000,
  },
];

describe.each(SETS)('conformance app over $fixtures', (set) => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: set.runMs + 10_000 }, async () => {
    const targets = set.targets();
    await expectAllPass(set.args, set.runMs, targets);
  });
});
