import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../src/types.js';
import { BENCH_CLI, buildGate, missingBuild } from './built.js';

/**
 * `pd-bench --quick` end to end: the built CLI starts the mock cluster, the real router and the
 * bare calibration proxy, runs every default scenario against them and the floor, and writes the
 * three reports. Locally a missing build skips it; in CI it fails (see `buildGate`).
 */
const run = promisify(execFile);
const gate = buildGate(missingBuild(true));
const out = mkdtempSync(join(tmpdir(), 'pd-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(gate.skip)('pd-bench CLI', () => {
  beforeAll(() => gate.check());

  it('--quick runs every default scenario against the floor, the router and the bare proxy', {
    timeout: 180_000,
  }, async () => {
    const { stdout, stderr } = await run(process.execPath, [BENCH_CLI, '--quick', '--bare', '--out', out], {
      timeout: 170_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    // stderr is not a TTY here: plain lines, no carriage-return redraws.
    expect(stderr).not.toContain('\r');
    expect(stderr).toContain('chat-short c=1 · floor · round 1/1');
    expect(stdout).toContain('## chat-short');
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
    expect(report.settings.targets.map((t) => t.name)).toEqual(['floor', 'pd-router', 'bare-node']);
    const scenarios = ['chat-short', 'stream-256', 'prompt-100k', 'streams-1000'];
    expect([...new Set(report.summary.map((r) => r.scenario))]).toEqual(scenarios);
    for (const row of report.summary) {
      expect({
        row: `${row.scenario} ${row.point} ${row.target}`,
        errors: row.errors,
        unfinished: row.unfinished,
      }).toEqual({
        row: `${row.scenario} ${row.point} ${row.target}`,
        errors: {},
        unfinished: 0,
      });
      expect(row.ok).toBeGreaterThan(0);
      if (row.targetKind === 'router') {
        expect(row.cpuUsPerRequest).toBeGreaterThan(0);
        expect(row.peakRssMb).toBeGreaterThan(10);
        expect(row.vsFloor).not.toBeNull();
      }
    }
    const streams = report.summary.find((r) => r.scenario === 'stream-256' && r.target === 'pd-router')!;
    expect(streams.tokensPerS).toBeGreaterThan(0);
    expect(streams.ttftMs).not.toBeNull();
    // ITL only where the mocks pace tokens: stream-256 runs on the instant preset, streams-1000
    // sets its own pause (10 ms in quick mode).
    expect(streams.mockInterTokenMs).toBe(0);
    expect(streams.itlMs).toBeNull();
    const paced = report.summary.find((r) => r.scenario === 'streams-1000' && r.target === 'pd-router')!;
    expect(paced.mockInterTokenMs).toBe(10);
    // Measured, not judged: a starved client reads several events in one chunk (gaps of 0 ms), so
    // only the largest gap is sure to be above 0.
    expect(paced.itlMs).not.toBeNull();
    expect(paced.itlMs?.max).toBeGreaterThan(0);
    const checks = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    // 50 streams in quick mode, not the 1,000: shown, never judged.
    expect(checks['streams-rss']).toMatchObject({
      status: 'not measured',
      value: expect.stringMatching(/at c=50 only$/),
    });
    expect(checks['no-errors']).toMatchObject({ status: 'met', value: '0 errors' });
    const markdown = readFileSync(join(out, 'results.md'), 'utf8');
    expect(markdown).toContain('| c=1 | pd-router |');
    expect(markdown).toContain('ITL p50/p99 ms');
    const svg = readFileSync(join(out, 'throughput.svg'), 'utf8');
    expect(svg).toContain('data-series="pd-router"');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('--help exits 0; a bad flag exits 2 with the code', async () => {
    const help = await run(process.execPath, [BENCH_CLI, '--help']);
    expect(help.stdout).toContain('Usage: pd-bench');
    await expect(run(process.execPath, [BENCH_CLI, '--rounds', 'x'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('PD_ERR_BENCH_USAGE'),
    });
  });
});
