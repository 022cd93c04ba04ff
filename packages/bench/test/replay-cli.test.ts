import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_CLI, buildGate, missingBuild } from './built.js';

/**
 * The CI replay smoke test (about 30 s): the built `pd-bench replay` on the first minute of the
 * Mooncake synthetic trace (test/fixtures/mooncake-head.jsonl), two policies on a 2P2D cluster.
 */
const run = promisify(execFile);
const gate = buildGate(missingBuild(true));
const out = mkdtempSync(join(tmpdir(), 'pd-bench-replay-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const TRACE = fileURLToPath(new URL('./fixtures/mooncake-head.jsonl', import.meta.url));

describe.skipIf(gate.skip)('pd-bench replay', () => {
  beforeAll(() => gate.check());

  it('replays a trace window per policy and writes the JSON, markdown and SVG reports', {
    timeout: 180_000,
  }, async () => {
    const json = join(out, 'results.json');
    const { stderr } = await run(
      process.execPath,
      [
        BENCH_CLI,
        'replay',
        '--trace',
        TRACE,
        '--window',
        '0:40',
        '--speedup',
        '8',
        '--prefill-count',
        '2',
        '--decode-count',
        '2',
        '--policies',
        'round_robin,default',
        '--json',
        json,
        '--out',
        out,
      ],
      { timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stderr).toContain('replay: round_robin:');
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(results)).toEqual(['round_robin', 'default']);
    for (const [policy, r] of Object.entries(results)) {
      expect(Object.keys(r), policy).toEqual([
        'requests',
        'errors',
        'ttft_ms',
        'tpot_ms',
        'e2e_ms',
        'goodput_rps',
        'prefix_hit_rate',
        'prefill_load_spread',
        'decode_load_spread',
      ]);
      expect(r['errors'], policy).toBe(0);
      expect(r['requests'], policy).toBeGreaterThan(100);
      const ttft = r['ttft_ms'] as { p50: number; p90: number; p99: number };
      // Trace time: a prefill of thousands of tokens takes tens of ms at least, whatever the speed-up.
      expect(ttft.p50, policy).toBeGreaterThan(20);
      expect(ttft.p99, policy).toBeGreaterThanOrEqual(ttft.p90);
      expect(ttft.p90, policy).toBeGreaterThanOrEqual(ttft.p50);
    }
    const md = readFileSync(join(out, 'replay.md'), 'utf8');
    expect(md).toContain('| round_robin |');
    expect(md).toContain('| default |');
    for (const file of ['ttft-cdf.svg', 'load-round_robin.svg', 'load-default.svg'])
      expect(existsSync(join(out, file)), file).toBe(true);
    expect(readFileSync(join(out, 'ttft-cdf.svg'), 'utf8')).toContain('data-series="default"');
  });

  it('refuses a missing trace and a bad window with usage errors (exit 2)', async () => {
    await expect(run(process.execPath, [BENCH_CLI, 'replay'])).rejects.toMatchObject({ code: 2 });
    await expect(
      run(process.execPath, [BENCH_CLI, 'replay', '--trace', TRACE, '--window', '5:1']),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--window expects START_S:END_S') });
  });
});
