import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';

/** The built router CLI (`pd-router`), as the package publishes it. */
export function routerCliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@pd-router/server/package.json')), 'dist', 'cli.js');
}

export interface JsonLogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface RouterProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Every JSON log line the router printed on stdout so far. */
  readonly logs: JsonLogLine[];
  /** Non-JSON output (stderr, and anything else). */
  readonly otherOutput: string[];
  /** Resident set size of the router process now (bytes), from /proc/PID/status. */
  rssBytes(): number;
  /** SIGTERM, then wait for the exit (SIGKILL after `graceMs`); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** A port free right now on 127.0.0.1 (the CLI's own port-0 line is only logged at info level). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function live(url: string): Promise<boolean> {
  try {
    const res = await request(`${url}/liveness`, { reset: true });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * Spawns the built `pd-router` CLI (`node dist/cli.js ARGS --host 127.0.0.1 --port FREE`), waits
 * until `/liveness` answers, and returns its port, its parsed JSON log lines and a way to read its
 * RSS. For the scenarios that need the router alone in a process (memory, load) or the real CLI.
 *
 * @example
 * const router = await startRouterProcess(['--prefill', p.workerSpec, '--decode', d.workerSpec]);
 * await router.stop();
 */
export async function startRouterProcess(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
  startTimeoutMs = 20_000,
  options: RouterProcessOptions = {},
): Promise<RouterProcess> {
  // The port was free a moment ago; another process may have bound it since. Then the CLI exits
  // at once saying so, and another port is tried (nothing else is retried).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(await freePort(), args, env, startTimeoutMs, options);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 5) throw error;
    }
  }
}

export interface RouterProcessOptions {
  /** Runs the router with this soft limit on open files (`ulimit -n` in a shell that then execs it). */
  readonly fdLimit?: number;
}

class PortTakenError extends Error {}

async function startOnce(
  port: number,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  startTimeoutMs: number,
  options: RouterProcessOptions,
): Promise<RouterProcess> {
  const url = `http://127.0.0.1:${port}`;
  const argv = [routerCliPath(), ...args, '--host', '127.0.0.1', '--port', String(port)];
  // `exec` keeps the pid: the shell becomes the router, with the lowered limit.
  const [command, commandArgs] =
    options.fdLimit === undefined
      ? [process.execPath, argv]
      : ['/bin/sh', ['-c', `ulimit -n ${options.fdLimit} && exec "$0" "$@"`, process.execPath, ...argv]];
  const child: ChildProcess = spawn(command, commandArgs, {
    env: { PATH: process.env['PATH'], ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: JsonLogLine[] = [];
  const otherOutput: string[] = [];
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exited = code;
      resolve(code);
    });
  });
  // After 'exit' the last output may still be in the pipes: 'close' comes once it is read.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as JsonLogLine);
      } catch {
        otherOutput.push(line);
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => otherOutput.push(text));

  const deadline = performance.now() + startTimeoutMs;
  let up = false;
  while (!up && exited === undefined && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    up = await live(url);
  }
  const pid = child.pid;
  if (!up || pid === undefined) {
    child.kill('SIGKILL');
    await exit;
    await closed;
    const output = otherOutput.join('');
    const message = `pd-router did not start (exit ${String(exited)}): ${output.slice(-2_000)}`;
    if (exited !== undefined && output.includes(`${port}: address already in use`))
      throw new PortTakenError(message);
    throw new Error(message);
  }
  return {
    pid,
    port,
    url,
    logs,
    otherOutput,
    rssBytes: () => readRss(pid),
    async stop(graceMs = 10_000) {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A real mock-vllm prefill and decode with the built router CLI in front of them. */
export interface CliPair {
  readonly router: RouterProcess;
  readonly prefill: MockVllm;
  readonly decode: MockVllm;
  close(): Promise<void>;
}

/**
 * Starts a mock-vllm pair (with `mockOptions`) and the router CLI in front of it, health checks off
 * (the scenarios probe the router, not the workers), with `args` added to the command line.
 */
export async function startCliPair(
  args: readonly string[],
  mockOptions: Parameters<typeof createDecodeServer>[0] = {},
): Promise<CliPair> {
  const prefill = await createPrefillServer(mockOptions);
  const decode = await createDecodeServer(mockOptions);
  const closeMocks = () => Promise.all([prefill.close(), decode.close()]).then(() => undefined);
  let router: RouterProcess;
  try {
    router = await startRouterProcess([
      ...['--prefill', prefill.workerSpec, '--decode', decode.workerSpec],
      ...['--health-check-interval-ms', '0'],
      ...args,
    ]);
  } catch (error) {
    await closeMocks();
    throw error;
  }
  return {
    router,
    prefill,
    decode,
    async close() {
      await router.stop();
      await closeMocks();
    },
  };
}

/** VmRSS of a process, in bytes (0 once it has exited). */
export function readRss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m === null ? 0 : Number(m[1]) * 1_024;
  } catch {
    return 0;
  }
}

/** Samples `read()` every `everyMs` until stopped; keeps the peak. */
export class PeakSampler {
  #peak = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #read: () => number;

  constructor(read: () => number, everyMs = 100) {
    this.#read = read;
    this.#peak = read();
    this.#timer = setInterval(() => {
      this.#peak = Math.max(this.#peak, this.#read());
    }, everyMs);
  }

  /** Stops sampling (one last sample) and returns the peak. */
  stop(): number {
    clearInterval(this.#timer);
    this.#peak = Math.max(this.#peak, this.#read());
    return this.#peak;
  }
}
