import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DevError } from './errors.js';

/** Lines of a child's output kept to explain its death. */
const TAIL_LINES = 40;

/** How a child process ended: an exit code, or the signal that killed it. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export type LineSink = (line: string) => void;

/**
 * One process the dev stack started: its output is read line by line (kept in a short tail, handed
 * to a sink once set), its exit is a promise, and `stop()` escalates SIGTERM to SIGKILL.
 *
 * @example
 * const child = ManagedChild.spawn('decode-1', process.execPath, [cli, '--role', 'decode']);
 * const match = await child.waitForLine(/^mock-vllm .* url=(\S+)/, 15_000);
 * await child.stop(3_000);
 */
export class ManagedChild {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the process is gone (never rejects; a spawn error counts as an exit). */
  readonly exited: Promise<ChildExit>;
  #process: ChildProcess;
  #exit: ChildExit | undefined;
  #tail: string[] = [];
  #sink: LineSink | undefined;
  #lineWaiters = new Set<LineSink>();

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#process = child;
    this.pid = child.pid ?? -1;
    this.exited = new Promise((resolve) => {
      const done = (exit: ChildExit): void => {
        this.#exit ??= exit;
        resolve(this.#exit);
      };
      // 'close' (not 'exit') so that the last lines of output have been read when it fires.
      child.once('close', (code, signal) => done({ code, signal }));
      child.once('error', (error) => {
        this.#remember(`${name}: ${error.message}`);
        if (child.pid === undefined) done({ code: null, signal: null });
      });
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        this.#remember(line);
        for (const waiter of this.#lineWaiters) waiter(line);
        this.#sink?.(line);
      });
    }
  }

  /**
   * Starts `command args` with piped output, in our process group (so a terminal's Ctrl-C reaches it
   * too). With PD_EXIT_WITH_PARENT=1, which mock-vllm's and pd-router's CLIs honour, the child stops
   * by itself if we die without stopping it (SIGKILL, a crash): no orphan keeps its ports.
   */
  static spawn(name: string, command: string, args: readonly string[]): ManagedChild {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PD_EXIT_WITH_PARENT: '1' },
    });
    return new ManagedChild(name, child);
  }

  /** False once the process has exited. */
  get running(): boolean {
    return this.#exit === undefined && this.#process.exitCode === null && this.#process.signalCode === null;
  }

  /** The last lines the process printed (stdout and stderr interleaved), for error messages. */
  get tail(): readonly string[] {
    return this.#tail;
  }

  /** Hands every later line of output to `sink` (the dev stack forwards logs once it is ready). */
  forward(sink: LineSink | undefined): void {
    this.#sink = sink;
  }

  /**
   * Resolves with the first output line matching `pattern`. Rejects with `PD_ERR_DEV_CHILD_FAILED`
   * if the process exits first, `PD_ERR_DEV_START_TIMEOUT` after `timeoutMs`, or `signal`'s reason.
   */
  waitForLine(pattern: RegExp, timeoutMs: number, signal?: AbortSignal): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#lineWaiters.delete(onLine);
        signal?.removeEventListener('abort', onAbort);
      };
      const onLine = (line: string): void => {
        const match = pattern.exec(line);
        if (match === null) return;
        cleanup();
        resolve(match);
      };
      const onAbort = (): void => {
        cleanup();
        reject(signal?.reason);
      };
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.#lineWaiters.add(onLine);
      signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => {
        cleanup();
        reject(new DevError('PD_ERR_DEV_START_TIMEOUT', `${this.name} was not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      void this.exited.then((exit) => {
        if (!this.#lineWaiters.has(onLine)) return;
        cleanup();
        reject(this.failure(exit, 'before it was ready'));
      });
    });
  }

  /** The error describing an exit: who, how, when, and the output that explains it. */
  failure(exit: ChildExit, when: string): DevError {
    const how = exit.signal === null ? `with code ${exit.code}` : `on ${exit.signal}`;
    const output = this.#tail.length === 0 ? '' : `\n${this.#tail.map((l) => `  | ${l}`).join('\n')}`;
    return new DevError(
      'PD_ERR_DEV_CHILD_FAILED',
      `${this.name} (pid ${this.pid}) exited ${how} ${when}${output}`,
    );
  }

  /** SIGTERM, then SIGKILL if still running after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<ChildExit> {
    if (!this.running) return this.exited;
    this.#process.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL now (synchronous: also usable from a process 'exit' handler). */
  kill(): void {
    if (this.running) this.#process.kill('SIGKILL');
  }

  #remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }
}
