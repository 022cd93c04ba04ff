import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * CPU time and memory of a process tree, read from Linux /proc.
 *
 * We read /proc rather than asking the target because the target may be any program (a Python
 * proxy, a Rust binary): /proc/<pid>/stat has utime+stime (and cutime+cstime of reaped children)
 * in clock ticks, /proc/<pid>/status has VmRSS and VmHWM (the peak resident set). Writing "5" to
 * /proc/<pid>/clear_refs resets VmHWM to the current RSS, so the peak can be measured per run
 * instead of since the process started.
 */

/** One reading of a process and its live descendants. */
export interface ProcSample {
  /** The pids read (root first). */
  readonly pids: readonly number[];
  /** utime + stime + cutime + cstime summed over the tree, in milliseconds. */
  readonly cpuMs: number;
  /** The kernel part of `cpuMs` (stime + cstime): syscalls, and on loopback the TCP stack. */
  readonly systemCpuMs: number;
  /** Current resident set summed over the tree, bytes. */
  readonly rssBytes: number;
  /** VmHWM summed over the tree, bytes (an upper bound of the tree's peak when it has several processes). */
  readonly peakRssBytes: number;
}

let clockTicksPerSecond: number | undefined;

/** `getconf CLK_TCK`, read once (100 on every Linux we know; the fallback). */
export function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    clockTicksPerSecond = 100;
    try {
      const n = Number.parseInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(), 10);
      if (Number.isFinite(n) && n > 0) clockTicksPerSecond = n;
    } catch {
      // getconf missing: keep the default.
    }
  }
  return clockTicksPerSecond;
}

/** CPU ticks from the text of /proc/<pid>/stat: user (utime+cutime) and system (stime+cstime). */
export function parseStatTicks(stat: string): { user: number; system: number } | undefined {
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14..17.
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
  if (![utime, stime, cutime, cstime].every((n) => Number.isFinite(n))) return undefined;
  return { user: utime! + cutime!, system: stime! + cstime! };
}

/** A `Name:   N kB` line of /proc/<pid>/status, in bytes. */
export function parseStatusKb(status: string, name: string): number | undefined {
  const at = status.indexOf(`\n${name}:`);
  const start = at >= 0 ? at + 1 : status.startsWith(`${name}:`) ? 0 : -1;
  if (start < 0) return undefined;
  const end = status.indexOf('\n', start);
  const line = status.slice(start + name.length + 1, end < 0 ? undefined : end);
  const kb = Number.parseInt(line.trim(), 10);
  return Number.isFinite(kb) ? kb * 1024 : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** Live descendants of `pid`, depth first (from /proc/<pid>/task/<tid>/children). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const text = readText(`/proc/${p}/task/${tid}/children`);
      if (text === undefined) continue;
      for (const part of text.split(' ')) {
        const child = Number.parseInt(part, 10);
        if (Number.isInteger(child) && child > 0 && !out.includes(child)) {
          out.push(child);
          stack.push(child);
        }
      }
    }
  }
  return out;
}

/**
 * Reads CPU and memory of `rootPid` and its descendants. `undefined` when the root is gone (or
 * /proc is unavailable, as on macOS).
 *
 * @example
 * const before = sampleProcessTree(child.pid);
 * // ... load ...
 * const after = sampleProcessTree(child.pid);
 * const cpuMsPerRequest = (after.cpuMs - before.cpuMs) / requests;
 */
export function sampleProcessTree(rootPid: number): ProcSample | undefined {
  const ticksToMs = 1000 / clockTicks();
  const pids = [rootPid, ...descendants(rootPid)];
  const read: number[] = [];
  let cpuMs = 0;
  let systemCpuMs = 0;
  let rssBytes = 0;
  let peakRssBytes = 0;
  for (const pid of pids) {
    const stat = readText(`/proc/${pid}/stat`);
    const status = readText(`/proc/${pid}/status`);
    if (stat === undefined || status === undefined) {
      if (pid === rootPid) return undefined;
      continue;
    }
    const ticks = parseStatTicks(stat);
    if (ticks === undefined) continue;
    read.push(pid);
    cpuMs += (ticks.user + ticks.system) * ticksToMs;
    systemCpuMs += ticks.system * ticksToMs;
    const rss = parseStatusKb(status, 'VmRSS') ?? 0;
    rssBytes += rss;
    peakRssBytes += Math.max(rss, parseStatusKb(status, 'VmHWM') ?? 0);
  }
  return { pids: read, cpuMs, systemCpuMs, rssBytes, peakRssBytes };
}

/**
 * Resets VmHWM of every process in the tree to its current RSS. Returns false when any reset
 * failed (not Linux, or not our process): peaks then count from the process start.
 *
 * @example
 * resetPeakRss(router.pid);
 * // ... load ...
 * const peakMb = sampleProcessTree(router.pid)!.peakRssBytes / 2 ** 20;
 */
export function resetPeakRss(rootPid: number): boolean {
  let okAll = true;
  for (const pid of [rootPid, ...descendants(rootPid)]) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      okAll = false;
    }
  }
  return okAll;
}
