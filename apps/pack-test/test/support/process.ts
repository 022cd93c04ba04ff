import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Command, exit status and both outputs, for assertion messages. */
  readonly report: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/** Tail of a long output, enough to see why a command failed without flooding the report. */
const REPORT_TAIL_CHARS = 4_000;
/** After SIGTERM, how long a child may take to exit before it gets SIGKILL. */
const KILL_GRACE_MS = 5_000;

function tail(text: string): string {
  return text.length > REPORT_TAIL_CHARS ? `...${text.slice(-REPORT_TAIL_CHARS)}` : text;
}

/**
 * Runs a command to completion (no shell). On timeout the whole process group is killed (npm and
 * npx start children of their own) and the result says so instead of hanging the suite.
 */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, 'SIGKILL');
  }, options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (error) => {
      stderr += `\nspawn failed: ${error.message}`;
      resolve([null, null]);
    });
    child.once('close', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s]));
  });
  clearTimeout(timer);
  const status = timedOut ? `timed out after ${options.timeoutMs} ms` : `exit ${code ?? signal}`;
  const report = `$ ${command} ${args.join(' ')}  (in ${options.cwd}): ${status}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`;
  return { code: timedOut ? null : code, signal, stdout, stderr, report };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** A long-running child (a server) whose output is watched for a line. */
export class Service {
  readonly child: ChildProcess;
  readonly name: string;
  #output = '';
  #waiters: Array<() => void> = [];

  constructor(
    name: string,
    command: string,
    args: readonly string[],
    options: Omit<RunOptions, 'timeoutMs'>,
  ) {
    this.name = name;
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onData = (chunk: string): void => {
      this.#output += chunk;
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.child.stdout?.setEncoding('utf8').on('data', onData);
    this.child.stderr?.setEncoding('utf8').on('data', onData);
    this.child.once('exit', () => {
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get output(): string {
    return this.#output;
  }

  /** Resolves with the first match of `pattern` in the output; rejects on exit or timeout. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#output.match(pattern);
      if (match !== null) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(
          `${this.name} exited (${this.child.exitCode ?? this.child.signalCode}):\n${tail(this.#output)}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms:\n${tail(this.#output)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code once it is gone. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(timer);
    return child.exitCode;
  }
}
