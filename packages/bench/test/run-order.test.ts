import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport, RunResult } from '../src/types.js';
import { BARE_PROXY, BENCH_CLI, buildGate, missingBuild } from './built.js';

/**
 * The built CLI, the real runner, two targets over two rounds: the floor and a `--compare`
 * command (the shipped bare proxy, given as a template with placeholders), tiny durations on the
 * instant preset. What results.json says about when each run was measured must show the targets
 * alternating A B A B, and the compare target must have a full row of its own.
 */
const run = promisify(execFile);
const gate = buildGate(missingBuild(false));
const out = mkdtempSync(join(tmpdir(), 'pd-bench-order-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const quote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;
const COMPARE = `bare=${quote(process.execPath)} ${quote(BARE_PROXY)} --prefill {prefill} --decode {decode} --port {port}`;

describe.skipIf(gate.skip)('pd-bench: rounds alternate the targets; --compare end to end', () => {
  let report: BenchReport;
  let markdown: string;
  beforeAll(async () => {
    gate.check();
    // Two load levels per target, so "A B A B" also means each target's levels stay together.
    await run(
      process.execPath,
      [
        BENCH_CLI,
        '--no-router',
        '--compare',
        COMPARE,
        '--scenario',
        'chat-short',
        '--concurrency',
        '1,4',
        '--rounds',
        '2',
        '--duration-s',
        '0.25',
        '--warmup-s',
        '0',
        '--preset',
        'instant',
        '--out',
        out,
      ],
      { timeout: 110_000, maxBuffer: 16 * 1024 * 1024 },
    );
    report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
    markdown = readFileSync(join(out, 'results.md'), 'utf8');
  }, 120_000);

  it('measures the targets A B A B: round by round, each target over all its load levels', () => {
    expect(report.settings.targets.map((t) => `${t.name} ${t.kind}`)).toEqual([
      'floor floor',
      'bare compare',
    ]);
    // The order comes from each run's recorded start time, not from the array's order.
    const byStart = [...report.runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    expect(byStart.map((r) => `r${r.round} ${r.target} ${r.point}`)).toEqual([
      'r1 floor c=1',
      'r1 floor c=4',
      'r1 bare c=1',
      'r1 bare c=4',
      'r2 floor c=1',
      'r2 floor c=4',
      'r2 bare c=1',
      'r2 bare c=4',
    ]);
    // Strictly one after another: a run starts after the previous one's measured part ended.
    const end = (r: RunResult): number => Date.parse(r.startedAt) + r.elapsedMs;
    for (let i = 1; i < byStart.length; i++) {
      // 5 ms of slack for the wall clock's millisecond rounding against performance.now().
      expect(Date.parse(byStart[i]!.startedAt)).toBeGreaterThanOrEqual(end(byStart[i - 1]!) - 5);
    }
    // The compare process is started afresh for each round (one log per start).
    for (const round of [1, 2])
      expect(existsSync(join(out, 'logs', `bare-chat-short-r${round}.log`))).toBe(true);
  });

  it('runs the --compare command with its placeholders filled and reports its row', () => {
    const target = report.settings.targets.find((t) => t.name === 'bare');
    expect(target?.command).toContain('--prefill {prefill} --decode {decode} --port {port}');
    for (const point of ['c=1', 'c=4']) {
      const row = report.summary.find((r) => r.target === 'bare' && r.point === point);
      expect(row).toMatchObject({
        scenario: 'chat-short',
        targetKind: 'compare',
        rounds: 2,
        failed: 0,
        unfinished: 0,
        errors: {},
      });
      // Answers came back through it, so {prefill}, {decode} and {port} were filled in right.
      expect(row!.ok).toBeGreaterThan(0);
      expect(row!.requestsPerSByRound).toHaveLength(2);
      // Its own process was measured through /proc, and it is compared with the floor.
      expect(row!.cpuUsPerRequest).toBeGreaterThan(0);
      expect(row!.peakRssMb).toBeGreaterThan(10);
      expect(row!.vsFloor?.throughputRatio).toBeGreaterThan(0);
      expect(markdown).toContain(`| ${point} | bare |`);
    }
    expect(markdown).toContain('`bare` (compare)');
    expect(report.checks.find((c) => c.id === 'no-errors')).toMatchObject({ status: 'met' });
  });
});
