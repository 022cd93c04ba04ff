import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { ClusterAddresses } from '../cluster/mock-cluster.js';
import { BenchError } from '../errors.js';
import { openLog, stopChild } from '../proc/child-process.js';
import { type CommandTemplate, expandTemplate } from './command-template.js';

/**
 * A proxy under test (the router, or any `--compare` command) running as a child process in its
 * own process group, listening on a port the bench chose, logging to a file.
 */
export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  stop(): Promise<void>;
}

export interface ProcessTargetOptions {
  readonly template: CommandTemplate;
  readonly cluster: ClusterAddresses;
  readonly logPath?: string;
  readonly startTimeoutMs?: number;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const LOG_TAIL_BYTES = 2_000;

/** Every live child we started, killed on exit even if the bench dies half-way. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** A TCP port that was free a moment ago (the OS picks it; the child binds it next). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the OS');
  return address.port;
}

/** The last bytes of a log file, to explain why a target did not start. */
export function logTail(path: string | undefined): string {
  if (path === undefined || !existsSync(path)) return '(no log)';
  const size = statSync(path).size;
  const length = Math.min(size, LOG_TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8').trim() || '(empty log)';
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The placeholder values for a cluster and a listening port. */
export function templateValues(cluster: ClusterAddresses, port: number): Record<string, string> {
  const values: Record<string, string> = { host: LOOPBACK, port: String(port) };
  for (const role of ['prefill', 'decode'] as const) {
    const { url, kvAddress } = cluster[role];
    const parsed = new URL(url);
    const kvPort = kvAddress.slice(kvAddress.lastIndexOf(':') + 1);
    values[role] = `${url}:zmq://${kvAddress}`;
    values[`${role}_url`] = url;
    values[`${role}_host`] = parsed.hostname;
    values[`${role}_port`] = parsed.port;
    values[`${role}_kv`] = kvAddress;
    values[`${role}_kv_port`] = kvPort;
  }
  return values;
}

/**
 * Starts the command and resolves once its port accepts connections.
 *
 * @example
 * const router = await startProcessTarget({ template, cluster, logPath: 'out/logs/router.log' });
 * // ... load against router.origin, measure router.pid ...
 * await router.stop();
 */
export async function startProcessTarget(options: ProcessTargetOptions): Promise<RunningProcess> {
  // The port was free a moment ago; another process may have bound it before the child did. Then
  // the child exits saying so in its log, and it is started again on another port.
  for (let attempt = 1; ; attempt++) {
    const logStart = logSize(options.logPath);
    try {
      return await startOnce(options, await freePort());
    } catch (error) {
      const portTaken =
        error instanceof BenchError &&
        error.message.includes('exited during start') &&
        PORT_TAKEN.test(logSince(options.logPath, logStart));
      if (!portTaken || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

/** Start attempts when the chosen port turns out to be taken. */
const PORT_ATTEMPTS = 3;
const PORT_TAKEN = /EADDRINUSE|address already in use/i;

function logSize(path: string | undefined): number {
  return path !== undefined && existsSync(path) ? statSync(path).size : 0;
}

/** What the log got since `offset` (its first 64 KiB), '' without a log. */
function logSince(path: string | undefined, offset: number): string {
  if (path === undefined || !existsSync(path)) return '';
  const length = Math.max(0, Math.min(statSync(path).size - offset, 65_536));
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

async function startOnce(options: ProcessTargetOptions, port: number): Promise<RunningProcess> {
  const { template, cluster, logPath } = options;
  const { argv, env } = expandTemplate(template, templateValues(cluster, port));
  const log = openLog(logPath);
  installExitHook();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
    detached: true,
  });
  if (typeof log === 'number') closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  const stop = async (): Promise<void> => {
    await stopChild(child, true);
    live.delete(child);
  };

  const deadline = performance.now() + (options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  const fail = async (why: string, cause?: unknown): Promise<never> => {
    await stop();
    throw new BenchError(
      'PD_ERR_BENCH_TARGET_START',
      `target "${template.name}" (${argv.join(' ')}) ${why}; log tail:\n${logTail(logPath)}`,
      cause === undefined ? {} : { cause },
    );
  };
  for (;;) {
    const early = await Promise.race([
      spawnError,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), POLL_MS)),
    ]);
    if (early !== undefined) return fail(`could not be started: ${early.message}`, early);
    if (child.exitCode !== null || child.signalCode !== null) {
      return fail(`exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
    }
    if (await canConnect(port)) break;
    if (performance.now() > deadline) return fail(`did not listen on ${LOOPBACK}:${port} in time`);
  }
  return { name: template.name, pid: child.pid!, origin: `http://${LOOPBACK}:${port}`, stop };
}
