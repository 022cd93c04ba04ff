import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PASS,
  HEADER_LINE,
  lastLine,
  MOONCAKE_FIXTURES,
  requireBuilt,
  runApp,
  tableRows,
} from './helpers.js';

// The Mooncake golden set (vLLM's Mooncake connector proxy) against the real built router, run with
// --kv-connector mooncake and mock-vllm's Mooncake mode: what CI runs beside the other two sets.
describe('conformance app over fixtures/mooncake-proxy', () => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: 240_000 }, async () => {
    const targets = readdirSync(MOONCAKE_FIXTURES, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(targets.length).toBeGreaterThanOrEqual(24);
    const run = await runApp(['--fixtures', 'fixtures/mooncake-proxy'], 230_000);
    const rows = tableRows(run.stdout);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect([...rows.keys()].sort()).toEqual([...targets].sort());
    expect(run.stdout).toMatch(HEADER_LINE);
    for (const marks of rows.values()) expect(marks).toEqual(ALL_PASS);
    expect(lastLine(run.stdout)).toBe(`${targets.length} passed, 0 failed`);
  });
});
