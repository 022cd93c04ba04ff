import { Pool } from 'undici';
import type { LoadTarget } from '../load/generator.js';
import { sendStep } from '../load/http-step.js';
import type { RequestProbe } from '../load/recorder.js';

/** What every logical request of a run sends: one route, one body, built once per scenario. */
export interface RequestSpec {
  readonly path: string;
  readonly body: Buffer;
  readonly stream: boolean;
}

/** Client-side connection settings for one run. */
export interface PoolSettings {
  /** Keep-alive connections per upstream origin (closed loop: the concurrency). */
  readonly connections: number;
  /** Headers and body (silence between chunks) timeout per request. */
  readonly timeoutMs: number;
}

const CONNECT_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_MS = 60_000;

/** An undici Pool with keep-alive, one request per connection at a time, explicit timeouts. */
export function createPool(origin: string, settings: PoolSettings): Pool {
  return new Pool(origin, {
    connections: settings.connections,
    pipelining: 1,
    keepAliveTimeout: KEEP_ALIVE_MS,
    keepAliveMaxTimeout: KEEP_ALIVE_MS,
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
}

/**
 * A target reached over HTTP as a single hop: the router, or any other proxy. The client body is
 * sent as is; only the answer's bytes are measured.
 *
 * @example
 * const target = createHttpTarget('http://127.0.0.1:8000', spec, { connections: 64, timeoutMs: 30_000 });
 */
export function createHttpTarget(origin: string, spec: RequestSpec, settings: PoolSettings): LoadTarget {
  const pool = createPool(origin, settings);
  // Built once: undici does not mutate dispatch options, and the body Buffer is only read.
  const options = {
    path: spec.path,
    method: 'POST' as const,
    headers: ['content-type', 'application/json', 'accept', spec.stream ? 'text/event-stream' : '*/*'],
    body: spec.body,
  };
  return {
    stream: spec.stream,
    send(probe: RequestProbe): void {
      sendStep({ dispatcher: pool, options, probe, measured: true });
    },
    async close(): Promise<void> {
      await pool.destroy();
    },
  };
}
