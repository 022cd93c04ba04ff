import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../src/types.js';
import { BENCH_CLI, missingBuild } from './built.js';

/**
 * `pd-bench --quick` end to end: the built CLI starts the mock cluster, the real router and the
 * bare calibration proxy, runs every default scenario against them and the floor, and writes the
 * three reports.
 */
const run = promisify(execFile);
const skip = missingBuild(true);
if (skip !== undefined) console.warn(`cli smoke skipped: ${skip}`);
const out = mkdtempSync(join(tmpdir(), 'pd-bench-smoke-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(skip !== undefined)('pd-bench CLI', () => {
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
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toContain('| c=1 | pd-router |');
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
