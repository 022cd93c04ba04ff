import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { AdmissionConfig } from '../src/config/types.js';
import { fakeClusterPerTest, postJson } from './fake-cluster.js';
import { type FakeWorker, type Router, sleep, waitFor } from './helpers.js';

const startCluster = fakeClusterPerTest();

interface Held {
  readonly d: FakeWorker;
  readonly router: Router;
  /** Answers every decode request held so far. */
  release(): void;
}

/** A router whose decode holds each answer until release(), with the given admission settings. */
async function setup(admission: Partial<AdmissionConfig>): Promise<Held> {
  const cluster = await startCluster({
    admission: {
      maxConcurrentRequests: 2,
      queueSize: 1,
      queueTimeoutMs: 60_000,
      rateLimitTokensPerSecond: undefined,
      ...admission,
    },
  });
  const d = cluster.d[0] as FakeWorker;
  const router = cluster.router;
  const waiting: (() => void)[] = [];
  d.handler = (_req, res) => {
    waiting.push(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok": true}');
    });
  };
  return {
    d,
    router,
    release: () => {
      for (const answer of waiting.splice(0)) answer();
    },
  };
}

function post(router: Router, signal?: AbortSignal) {
  return postJson(router, '/v1/completions', undefined, signal);
}

async function metric(router: Router, name: string): Promise<number> {
  const text = await (await request(`${router.url}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? Number.NaN);
}

/** Polls /metrics until the series reads `want` (a starved machine may take a while). */
async function metricReaches(router: Router, name: string, want: number): Promise<void> {
  const end = Date.now() + 20_000;
  while ((await metric(router, name)) !== want) {
    if (Date.now() > end) throw new Error(`${name} never read ${want}`);
    await sleep(10);
  }
}

describe('admission: --max-concurrent-requests, --queue-size, --queue-timeout-secs', () => {
  it('queues beyond the cap and refuses a full queue at once with 429, Retry-After and a coded body', async () => {
    const { d, router, release } = await setup({});
    const first = [post(router), post(router)];
    await waitFor(() => d.received.length === 2, 20_000, 'two requests in flight');
    // The third waits: the decode never sees it while two are in flight.
    const queued = post(router);
    await metricReaches(router, 'pd_router_admission_queue_depth', 1);
    const refused = await post(router);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await refused.body.json()).toEqual({
      error: {
        message:
          'too many requests: every place is taken and the admission queue is full (--max-concurrent-requests, --queue-size)',
        type: 'rate_limit_error',
        param: null,
        code: 'PD_ERR_QUEUE_FULL',
      },
    });
    expect(d.received).toHaveLength(2);
    release();
    for (const r of await Promise.all(first)) {
      expect(r.statusCode).toBe(200);
      await r.body.text();
    }
    await waitFor(() => d.received.length === 3, 20_000, 'the queued request admitted');
    release();
    const third = await queued;
    expect(third.statusCode).toBe(200);
    expect(await third.body.text()).toBe('{"ok": true}');
    expect(await metric(router, 'pd_router_admission_rejected_total{reason="queue_full"}')).toBe(1);
    expect(await metric(router, 'pd_router_admission_queued_total')).toBe(1);
    expect(await metric(router, 'pd_router_admission_queue_wait_seconds_count')).toBe(1);
    expect(await metric(router, 'pd_router_admission_queue_depth')).toBe(0);
    expect(await metric(router, 'pd_router_admission_in_flight')).toBe(0);
  });

  it('answers 408 with Retry-After to a request that waited past --queue-timeout-secs; nothing goes upstream', async () => {
    const { d, router, release } = await setup({ maxConcurrentRequests: 1, queueTimeoutMs: 300 });
    const holding = post(router);
    await waitFor(() => d.received.length === 1, 20_000, 'one request in flight');
    const started = performance.now();
    const late = await post(router);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(late.statusCode).toBe(408);
    expect(Number(late.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await late.body.json()).toEqual({
      error: {
        message: 'the request waited 0.3 s for a place (--queue-timeout-secs) and was not admitted',
        type: 'timeout_error',
        param: null,
        code: 'PD_ERR_QUEUE_TIMEOUT',
      },
    });
    expect(d.received).toHaveLength(1);
    expect(await metric(router, 'pd_router_admission_rejected_total{reason="queue_timeout"}')).toBe(1);
    release();
    expect((await holding).statusCode).toBe(200);
  });

  it('frees the queue place of a client that leaves while queued', async () => {
    const { d, router, release } = await setup({ maxConcurrentRequests: 1 });
    const holding = post(router);
    await waitFor(() => d.received.length === 1, 20_000, 'one request in flight');
    const leaving = new AbortController();
    const left = post(router, leaving.signal).catch((error: unknown) => error);
    const depthIs = (want: number) => metricReaches(router, 'pd_router_admission_queue_depth', want);
    await depthIs(1);
    leaving.abort();
    await left;
    await depthIs(0);
    expect(await metric(router, 'pd_router_admission_abandoned_total')).toBe(1);
    // Its place is free: the next request queues instead of getting 429, and is served in turn.
    const next = post(router);
    await depthIs(1);
    release();
    expect((await holding).statusCode).toBe(200);
    await waitFor(() => d.received.length === 2, 20_000, 'the next request admitted');
    release();
    expect((await next).statusCode).toBe(200);
    // The client that left never reached the workers.
    expect(d.received).toHaveLength(2);
  });
});
