import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built entry point, run exactly as `pnpm dev` runs it. */
export const MAIN_JS = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** One process of the stack as the banner lists it. */
export interface ListedProcess {
  readonly name: string;
  readonly port: number;
  readonly kvPort: number | undefined;
  readonly pid: number;
}

/** What starts the stack: `file ...prefix ...args` in `cwd`. */
export interface DevLauncher {
  readonly file: string;
  readonly prefix: readonly string[];
  readonly cwd: string;
  /** Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface DevProcessOptions {
  /** Lead a new process group, so a test can signal the group as a terminal's Ctrl-C does. */
  readonly ownGroup?: boolean;
  /** Default: `node apps/dev/dist/main.js`, run from apps/dev. */
  readonly launcher?: DevLauncher;
}

/** `node apps/dev/dist/main.js ARGS` (or another launcher) with its output collected, and a way to wait on it. */
export class DevProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process group the child leads, when started with `ownGroup`. */
  readonly groupId: number | undefined;

  constructor(args: readonly string[], { ownGroup = false, launcher }: DevProcessOptions = {}) {
    if (launcher === undefined && !existsSync(MAIN_JS))
      throw new Error(`${MAIN_JS} is missing: run pnpm --filter @pd-router/dev build`);
    const { file, prefix, cwd, env } = launcher ?? {
      file: process.execPath,
      prefix: [MAIN_JS],
      cwd: APP_DIR,
    };
    this.child = spawn(file, [...prefix, ...args], {
      cwd,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownGroup,
    });
    this.groupId = ownGroup ? this.child.pid : undefined;
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Resolves when stdout contains `text`; rejects if the process exits first or after `timeoutMs`. */
  async waitForStdout(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stdout.includes(text)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        // 'exit' can come before the last output is read: look again once the pipes are drained.
        await this.exited;
        if (this.stdout.includes(text)) return;
        throw new Error(
          `dev exited before printing "${text}"\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no "${text}" after ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves with the exit, or throws after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`dev still running after ${timeoutMs} ms\n${this.stdout}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Cleanup for any test outcome: SIGTERM the dev process, then SIGKILL it, every listed pid and
   * whatever is left in its process group.
   */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.waitForExit(10_000).catch(() => this.child.kill('SIGKILL'));
    }
    for (const p of listedProcesses(this.stdout)) {
      if (pidAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    }
    if (this.groupId !== undefined && groupAlive(this.groupId)) process.kill(-this.groupId, 'SIGKILL');
  }
}

const ROW = /^ {2}(\S+)\s+http:\/\/127\.0\.0\.1:(\d+)\s+(?:kv 127\.0\.0\.1:(\d+)\s+)?pid (\d+)$/gm;

/** The banner's process table. */
export function listedProcesses(stdout: string): ListedProcess[] {
  return [...stdout.matchAll(ROW)].map((m) => ({
    name: m[1] ?? '',
    port: Number(m[2]),
    kvPort: m[3] === undefined ? undefined : Number(m[3]),
    pid: Number(m[4]),
  }));
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True while any process is left in process group `groupId`. */
export function groupAlive(groupId: number): boolean {
  return pidAlive(-groupId);
}

/** True when nothing listens on 127.0.0.1:port any more (we can bind it ourselves). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Every port the banner lists: router, mock HTTP and KV ports. */
export function listedPorts(stdout: string): number[] {
  return listedProcesses(stdout).flatMap((p) => (p.kvPort === undefined ? [p.port] : [p.port, p.kvPort]));
}

/** Resolves once `check` holds, polling every 100 ms; throws after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The processes of the default stack (`--prefill 2 --decode 2`), in the order dev lists them. */
export const DEFAULT_STACK_NAMES = ['pd-router', 'prefill-1', 'prefill-2', 'decode-1', 'decode-2'];
