import { Pool } from 'undici';
import { ErrorTally, type LatencySummary, summarize } from './latency.js';

const DONE = Buffer.from('data: [DONE]');

export interface LoadRunResult {
  readonly requests: number;
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly errorCount: number;
  /** Time to the last byte of each successful answer. */
  readonly latency: LatencySummary;
  /** Time to the response headers (streams: the first token is not far behind). */
  readonly ttfb: LatencySummary;
  /** Most answers open at once (headers received, end not yet). */
  readonly peakOpen: number;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
}

interface Shared {
  readonly pool: Pool;
  readonly path: string;
  readonly body: string;
  readonly stream: boolean;
  readonly latencies: number[];
  readonly ttfbs: number[];
  readonly errors: ErrorTally;
  open: number;
  peakOpen: number;
  requests: number;
  ok: number;
}

/** One request: read to the end; a stream must end with `data: [DONE]`. */
async function once(s: Shared): Promise<void> {
  const t0 = performance.now();
  s.requests += 1;
  let counted = false;
  try {
    const res = await s.pool.request({
      method: 'POST',
      path: s.path,
      headers: { 'content-type': 'application/json' },
      body: s.body,
    });
    s.ttfbs.push(performance.now() - t0);
    s.open += 1;
    counted = true;
    if (s.open > s.peakOpen) s.peakOpen = s.open;
    let tail: Buffer = Buffer.alloc(0);
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      tail = b.length >= 32 ? b.subarray(b.length - 32) : Buffer.concat([tail, b]).subarray(-32);
    }
    if (res.statusCode !== 200) s.errors.add(`status ${res.statusCode}`);
    else if (s.stream && !tail.includes(DONE)) s.errors.add('stream without [DONE]');
    else {
      s.ok += 1;
      s.latencies.push(performance.now() - t0);
    }
  } catch (error) {
    s.errors.add(String((error as { code?: unknown }).code ?? (error as Error).name));
  } finally {
    if (counted) s.open -= 1;
  }
}

function result(s: Shared, durationMs: number): LoadRunResult {
  return {
    requests: s.requests,
    ok: s.ok,
    errors: s.errors.toJSON(),
    errorCount: s.errors.total,
    latency: summarize(s.latencies),
    ttfb: summarize(s.ttfbs),
    peakOpen: s.peakOpen,
    durationMs: Math.round(durationMs),
    requestsPerSecond: Math.round((s.ok / durationMs) * 1_000 * 10) / 10,
  };
}

export interface BurstOptions {
  readonly origin: string;
  readonly count: number;
  readonly body: string;
  readonly stream: boolean;
  readonly path?: string;
}

/** A pool of `connections` unpipelined connections whose headers and body each get `timeoutMs`. */
function loadPool(origin: string, connections: number, timeoutMs: number): Pool {
  return new Pool(origin, { connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
}

/**
 * `count` requests started at once, each on a connection of its own: with long enough answers,
 * all of them are open together (`peakOpen`).
 *
 * @example
 * const r = await burst({ origin: router.url, count: 2_000, body, stream: true });
 */
export async function burst(o: BurstOptions): Promise<LoadRunResult> {
  const pool = loadPool(o.origin, o.count, 120_000);
  const s = shared(pool, o.path, o.body, o.stream);
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: o.count }, () => once(s)));
  } finally {
    await pool.close();
  }
  return result(s, performance.now() - t0);
}

export interface ClosedLoopOptions {
  readonly origin: string;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly body: string;
  readonly stream: boolean;
  readonly path?: string;
}

/**
 * `concurrency` workers, each sending its next request as soon as the last one ended, for
 * `durationMs` (requests in flight at the end are finished, not counted as errors).
 *
 * @example
 * const r = await closedLoop({ origin: router.url, concurrency: 256, durationMs: 10_000, body, stream: false });
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<LoadRunResult> {
  const pool = loadPool(o.origin, o.concurrency, 60_000);
  const s = shared(pool, o.path, o.body, o.stream);
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) await once(s);
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    await pool.close();
  }
  return result(s, performance.now() - t0);
}

function shared(pool: Pool, path: string | undefined, body: string, stream: boolean): Shared {
  return {
    pool,
    path: path ?? '/v1/completions',
    body,
    stream,
    latencies: [],
    ttfbs: [],
    errors: new ErrorTally(),
    open: 0,
    peakOpen: 0,
    requests: 0,
    ok: 0,
  };
}
