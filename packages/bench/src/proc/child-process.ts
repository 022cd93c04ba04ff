import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Lifecycle helpers for the processes the bench starts (mock cluster, router, other proxies).
 * Children write to log files, never to pipes we would have to drain: an unread pipe blocks a
 * chatty router once its buffer fills, which would show up as a latency cliff.
 */

const STOP_GRACE_MS = 5_000;

/** A file descriptor for a child's stdout/stderr, or 'ignore' without a path. */
export function openLog(path: string | undefined): number | 'ignore' {
  if (path === undefined) return 'ignore';
  mkdirSync(dirname(path), { recursive: true });
  return openSync(path, 'a');
}

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/**
 * SIGTERM, then SIGKILL after a grace period. `group` signals the process group the child leads
 * (children spawned `detached`), so a wrapper's own children (a shell, `uv run`, workers) stop too.
 */
export async function stopChild(child: ChildProcess, group = false): Promise<void> {
  if (child.pid === undefined || !alive(child)) return;
  const exited = once(child, 'exit');
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (group) process.kill(-child.pid!, name);
      else child.kill(name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
  // A group may outlive its leader; make sure nothing we started is left behind.
  if (group) signal('SIGKILL');
}
