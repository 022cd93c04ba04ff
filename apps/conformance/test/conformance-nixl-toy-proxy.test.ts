import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_PASS,
  HEADER_LINE,
  lastLine,
  NIXL_FIXTURES,
  requireBuilt,
  runApp,
  tableRows,
} from './helpers.js';

// The NIXL golden set (vLLM's NIXL toy proxy) against the real built router, run with
// --kv-connector nixl: what CI runs beside the reference-proxy set.
describe('conformance app over fixtures/nixl-toy-proxy', () => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: 120_000 }, async () => {
    const targets = readdirSync(NIXL_FIXTURES, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(targets.length).toBeGreaterThanOrEqual(35);
    const run = await runApp(['--fixtures', 'fixtures/nixl-toy-proxy'], 110_000);
    const rows = tableRows(run.stdout);

    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect([...rows.keys()].sort()).toEqual([...targets].sort());
    expect(run.stdout).toMatch(HEADER_LINE);
    for (const marks of rows.values()) expect(marks).toEqual(ALL_PASS);
    expect(lastLine(run.stdout)).toBe(`${targets.length} passed, 0 failed`);
  });
});
