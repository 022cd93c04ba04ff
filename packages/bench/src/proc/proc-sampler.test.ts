import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clockTicks,
  descendants,
  parseStatTicks,
  parseStatusKb,
  resetPeakRss,
  sampleProcessTree,
} from './proc-sampler.js';

const MB = 1024 * 1024;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

/** Starts `node -e code` and waits for its first stdout chunk (a short line). */
async function startNode(code: string, args: string[] = []): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [...args, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, line: chunk.toString('utf8').trim() };
}

describe('parsers', () => {
  it('reads utime+cutime and stime+cstime even when the command name has spaces and parens', () => {
    const stat = '1234 (my (odd) proc) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 1 1000 200';
    expect(parseStatTicks(stat)).toEqual({ user: 250 + 7, system: 50 + 3 });
    expect(parseStatTicks('garbage')).toBeUndefined();
  });

  it('reads kB lines of /proc/<pid>/status as bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  51200 kB\nVmRSS:\t   40960 kB\n';
    expect(parseStatusKb(status, 'VmHWM')).toBe(51_200 * 1024);
    expect(parseStatusKb(status, 'VmRSS')).toBe(40_960 * 1024);
    expect(parseStatusKb(status, 'Name')).toBeUndefined();
    expect(parseStatusKb(status, 'VmSwap')).toBeUndefined();
  });
});

describe('sampleProcessTree on real processes', () => {
  it('agrees with Node’s own view of the current process', () => {
    const before = sampleProcessTree(process.pid)!;
    // Burn 200 ms of CPU (not wall time: on a loaded machine the two differ a lot) so the tick
    // counter (10 ms resolution) must move.
    const start = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(start).user < 200_000) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = sampleProcessTree(process.pid)!;
    const usage = process.cpuUsage();
    expect(after.pids[0]).toBe(process.pid);
    expect(after.cpuMs - before.cpuMs).toBeGreaterThanOrEqual(100);
    // Own usage (µs) vs /proc (ms), within a few ticks: same counters, different rounding.
    expect(Math.abs((usage.user + usage.system) / 1000 - after.cpuMs)).toBeLessThan(
      (1000 / clockTicks()) * 5 + 50,
    );
    const rss = process.memoryUsage().rss;
    expect(after.rssBytes).toBeGreaterThan(rss * 0.5);
    expect(after.rssBytes).toBeLessThan(rss * 2);
    expect(after.peakRssBytes).toBeGreaterThanOrEqual(after.rssBytes);
    expect(after.systemCpuMs).toBeGreaterThanOrEqual(0);
    expect(after.systemCpuMs).toBeLessThanOrEqual(after.cpuMs);
  });

  it('returns undefined for a pid that does not exist', () => {
    expect(sampleProcessTree(2 ** 22 + 17)).toBeUndefined();
  });

  it('includes descendants of the root', async () => {
    const { child: parent, line } = await startNode(
      "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });" +
        " process.stdout.write(String(c.pid) + '\\n'); setInterval(() => {}, 1000);",
    );
    const childPid = Number.parseInt(line, 10);
    try {
      expect(descendants(parent.pid!)).toContain(childPid);
      const sample = sampleProcessTree(parent.pid!)!;
      expect(sample.pids.length).toBeGreaterThanOrEqual(2);
    } finally {
      // The grandchild is ours too: end it by its pid, whatever happened to its parent.
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  it('resets the peak so a run measures its own peak, not the start-up one', async () => {
    // The child touches 96 MB, frees it, and only then says it is ready.
    const { child } = await startNode(
      "let b = Buffer.alloc(96 * 1024 * 1024, 1); b = null; globalThis.gc(); process.stdout.write('ready\\n');" +
        ' setInterval(() => {}, 1000);',
      ['--expose-gc'],
    );
    const high = sampleProcessTree(child.pid!)!;
    expect(high.peakRssBytes).toBeGreaterThan(90 * MB);
    expect(resetPeakRss(child.pid!)).toBe(true);
    const low = sampleProcessTree(child.pid!)!;
    expect(low.peakRssBytes).toBeLessThan(high.peakRssBytes - 50 * MB);
  });
});
