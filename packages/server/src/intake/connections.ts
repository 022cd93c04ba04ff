import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { openAiErrorBody } from '../errors.js';

/**
 * File descriptors kept for the router's own sockets and files when `--max-connections` is
 * automatic: upstream pools, health checks, discovery, the metrics listener, logs. A quarter of
 * the limit, at least 64 and at most 4,096: a client flood then cannot make the health checker
 * fail with EMFILE and mark every worker down.
 */
export function fdReserve(fdLimit: number): number {
  return Math.max(64, Math.min(Math.floor(fdLimit / 4), 4096));
}

/** The soft limit on open files (RLIMIT_NOFILE) from /proc (Linux); undefined elsewhere. */
export function readFdLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'latin1')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number(soft);
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Without a readable fd limit (not Linux), automatic `--max-connections` is this. */
export const FALLBACK_MAX_CONNECTIONS = 10_000;

/**
 * The effective client connection cap: `configured` when set (> 0), else the fd limit minus
 * `fdReserve` (at least 1), else FALLBACK_MAX_CONNECTIONS.
 *
 * @example resolveMaxConnections(0, 20_000) // 15_904
 */
export function resolveMaxConnections(configured: number, fdLimit = readFdLimit()): number {
  if (configured > 0) return configured;
  if (fdLimit === undefined) return FALLBACK_MAX_CONNECTIONS;
  return Math.max(1, fdLimit - fdReserve(fdLimit));
}

/** How long a refused connection may take to read its 503 before it is destroyed. */
const REFUSAL_LINGER_MS = 2_000;
/** Seconds a refused client is told to wait. */
export const TOO_MANY_CONNECTIONS_RETRY_AFTER_S = 1;

const REFUSAL_BODY = openAiErrorBody(
  'PD_ERR_TOO_MANY_CONNECTIONS',
  'service_unavailable',
  'the router has reached its connection limit (--max-connections); retry later',
);
const REFUSAL =
  'HTTP/1.1 503 Service Unavailable\r\n' +
  'Content-Type: application/json; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n` +
  `Retry-After: ${TOO_MANY_CONNECTIONS_RETRY_AFTER_S}\r\n` +
  'Connection: close\r\n\r\n' +
  REFUSAL_BODY;

/**
 * Counts the server's client connections and refuses those beyond `max` with a 503 written as
 * soon as they are accepted (then closes them), instead of Node's `maxConnections`, which drops
 * them without a word. `isRefused` tells a request that still arrives on such a connection.
 */
export class ConnectionGuard {
  readonly #max: number;
  readonly #open = new Set<Socket>();
  readonly #refused = new WeakSet<Socket>();
  refusedTotal = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get max(): number {
    return this.#max;
  }

  /** The connections being served (not the refused ones). */
  get open(): ReadonlySet<Socket> {
    return this.#open;
  }

  install(server: Server): void {
    server.on('connection', (socket: Socket) => {
      if (this.#open.size >= this.#max) {
        this.#refuse(socket);
        return;
      }
      this.#open.add(socket);
      socket.once('close', () => this.#open.delete(socket));
    });
  }

  isRefused(socket: Socket): boolean {
    return this.#refused.has(socket);
  }

  #refuse(socket: Socket): void {
    this.#refused.add(socket);
    this.refusedTotal++;
    socket.end(REFUSAL);
    const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
