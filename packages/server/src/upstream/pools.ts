import { Pool } from 'undici';

/**
 * vLLM serves through uvicorn, whose keep-alive timeout is 5 s: we must drop an idle connection
 * before the server does, or a request can be written onto a socket the server is closing.
 */
export const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 4_000;
/** Connecting to a worker on the same network takes milliseconds; a longer wait means it is gone. */
export const UPSTREAM_CONNECT_TIMEOUT_MS = 5_000;

export interface PoolOptions {
  /** Max connections per origin (config.upstreamConnections). */
  readonly connections: number;
  /** Pool-wide backstops; each request also passes its own budget. Never undici's 300 s defaults. */
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

interface Entry {
  readonly pool: Pool;
  refs: number;
}

/**
 * One undici Pool per worker origin, shared when the same origin is registered twice (e.g. as
 * prefill and decode), reference-counted so that a dynamically removed worker closes its pool.
 *
 * @example
 * const pools = new PoolSet({ connections: 64, headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, connectTimeoutMs: 5_000 });
 * const pool = pools.acquire('http://127.0.0.1:20003');
 */
export class PoolSet {
  readonly #options: PoolOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  acquire(origin: string): Pool {
    const entry = this.#entries.get(origin);
    if (entry !== undefined) {
      entry.refs += 1;
      return entry.pool;
    }
    const o = this.#options;
    const pool = new Pool(origin, {
      connections: o.connections,
      pipelining: 1,
      keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
      keepAliveMaxTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
      headersTimeout: o.headersTimeoutMs,
      bodyTimeout: o.bodyTimeoutMs,
      connectTimeout: o.connectTimeoutMs,
    });
    this.#entries.set(origin, { pool, refs: 1 });
    return pool;
  }

  /** Drops one reference; the last one closes the pool once its in-flight requests have finished. */
  async release(origin: string): Promise<void> {
    const entry = this.#entries.get(origin);
    if (entry === undefined) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.#entries.delete(origin);
    await entry.pool.close();
  }

  /** Closes every pool; Fastify runs this in onClose, after in-flight requests have finished. */
  async close(): Promise<void> {
    const pools = [...this.#entries.values()].map((e) => e.pool);
    this.#entries.clear();
    await Promise.all(pools.map((p) => p.close()));
  }
}
