import { connect } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { MODELS_ATTEMPT_TIMEOUT_MS } from '../src/routes/models-fetch.js';
import {
  e2eKit,
  type FakeHandler,
  type FakeWorker,
  jsonAnswer,
  REFUSED_SPEC,
  type Router,
  sleep,
  waitFor,
} from './helpers.js';

// GET /v1/models against decode workers that hang, fail or answer 5xx: a short budget per worker,
// a timeout is a 504 (not a "malformed answer"), the next worker is tried, and a client that leaves
// cancels the call.

const MODELS = { object: 'list', data: [{ id: 'mock-model', object: 'model' }] };
const hang: FakeHandler = () => undefined;

const kit = e2eKit();

async function fakes(...handlers: FakeHandler[]): Promise<FakeWorker[]> {
  const list: FakeWorker[] = [];
  for (const handler of handlers) list.push(await kit.worker(handler));
  return list;
}

/**
 * The per-attempt budget is min(TTFT budget, MODELS_ATTEMPT_TIMEOUT_MS). 300 ms keeps the hang cases
 * short; a case where a worker must answer in time gets a budget far above a loaded machine's
 * event-loop stalls (an overdue timer runs before the I/O that would have beaten it).
 */
const ANSWERS_IN_TIME_MS = 2_000;

async function router(decodes: readonly FakeWorker[], decodeTtftTimeoutMs = 300): Promise<Router> {
  const [p] = await fakes(jsonAnswer({ prefill: true }));
  return kit.router({
    prefill: [p?.spec() ?? ''],
    decode: decodes.map((d) => d.spec()),
    decodeTtftTimeoutMs,
  });
}

async function getModels(r: Router): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await request(`${r.url}/v1/models`);
  const body: unknown = await res.body.json();
  return { status: res.statusCode, body, ms: performance.now() - t0 };
}

async function errorCount(r: Router, url: string, kind: string): Promise<number> {
  const text = await r.app.pd.metrics.registry.metrics();
  const series = `pd_router_upstream_errors_total{role="decode",worker="${url}",kind="${kind}"} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(series.length));
}

describe('GET /v1/models when decode workers misbehave', () => {
  it('a hung decode is a 504 PD_ERR_DECODE_TIMEOUT counted as a timeout, not a bad response', async () => {
    const [d] = await fakes(hang);
    const r = await router([d!]);
    const res = await getModels(r);
    expect(res.status).toBe(504);
    expect(res.body).toEqual({
      error: {
        message: 'decode worker #1 sent no model list within 300 ms',
        type: 'timeout_error',
        param: null,
        code: 'PD_ERR_DECODE_TIMEOUT',
      },
    });
    expect(await errorCount(r, d!.url, 'timeout')).toBe(1);
    expect(await errorCount(r, d!.url, 'bad_response')).toBe(0);
  });

  it('waits at most MODELS_ATTEMPT_TIMEOUT_MS per worker, not the 300 s TTFT budget', async () => {
    const [d] = await fakes(hang);
    const r = await router([d!], 300_000);
    const res = await getModels(r);
    expect(res.status).toBe(504);
    expect((res.body as { error: { message: string } }).error.message).toBe(
      `decode worker #1 sent no model list within ${MODELS_ATTEMPT_TIMEOUT_MS} ms`,
    );
    expect(res.ms).toBeGreaterThanOrEqual(MODELS_ATTEMPT_TIMEOUT_MS - 100);
    expect(res.ms).toBeLessThan(MODELS_ATTEMPT_TIMEOUT_MS + 10_000);
  }, 30_000);

  it('a hung first decode: the next one is asked and its list served', async () => {
    const [d1, d2] = await fakes(hang, jsonAnswer(MODELS));
    const r = await router([d1!, d2!], ANSWERS_IN_TIME_MS);
    const res = await getModels(r);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(MODELS);
    expect(d1!.received).toHaveLength(1);
    expect(d2!.received).toHaveLength(1);
    expect(await errorCount(r, d1!.url, 'timeout')).toBe(1);
  });

  it('a first decode answering 500: the next one is asked (the 500 is not relayed)', async () => {
    const [d1, d2] = await fakes(jsonAnswer({ error: { message: 'boom' } }, 500), jsonAnswer(MODELS));
    const r = await router([d1!, d2!], ANSWERS_IN_TIME_MS);
    const res = await getModels(r);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(MODELS);
    expect(await errorCount(r, d1!.url, 'status')).toBe(1);
  });

  it('a refused first decode: the next one is asked', async () => {
    const [d2] = await fakes(jsonAnswer(MODELS));
    const [p] = await fakes(jsonAnswer({ prefill: true }));
    const r = await kit.router({ prefill: [p!.spec()], decode: [REFUSED_SPEC, d2!.spec()] });
    const res = await getModels(r);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(MODELS);
  });

  it('every decode answering 5xx: the last answer is relayed as is, not cached', async () => {
    const [d1, d2] = await fakes(
      jsonAnswer({ error: { message: 'first' } }, 500),
      jsonAnswer({ error: { message: 'second' } }, 503),
    );
    const r = await router([d1!, d2!], ANSWERS_IN_TIME_MS);
    for (let i = 1; i <= 2; i++) {
      const res = await getModels(r);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { message: 'second' } });
      expect(d1!.received).toHaveLength(i);
      expect(d2!.received).toHaveLength(i);
    }
  });

  it('a 4xx is relayed at once (an honest answer, not a worker fault)', async () => {
    const [d1, d2] = await fakes(jsonAnswer({ error: { message: 'nope' } }, 404), jsonAnswer(MODELS));
    const r = await router([d1!, d2!], ANSWERS_IN_TIME_MS);
    const res = await getModels(r);
    expect(res.status).toBe(404);
    expect(d2!.received).toHaveLength(0);
  });

  it('asks at most 3 workers, so the total wait stays bounded', async () => {
    const ds = await fakes(hang, hang, hang, jsonAnswer(MODELS));
    const r = await router(ds);
    const res = await getModels(r);
    expect(res.status).toBe(504);
    expect(ds.map((d) => d.received.length)).toEqual([1, 1, 1, 0]);
  });

  it('a client that disconnects cancels the upstream call', async () => {
    const [d] = await fakes(hang);
    // Budget 5 s: the worker must see its request end long before that.
    const r = await router([d!], 60_000);
    const controller = new AbortController();
    const pending = request(`${r.url}/v1/models`, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => d!.received.length === 1, 10_000, 'the models request upstream');
    const aborted = performance.now();
    controller.abort();
    await pending;
    await waitFor(() => d!.aborted.length === 1, 10_000, 'the upstream call to be cancelled');
    expect(performance.now() - aborted).toBeLessThan(MODELS_ATTEMPT_TIMEOUT_MS - 1_000);
    // Not a worker fault, and a later request starts a fresh call.
    expect(await errorCount(r, d!.url, 'timeout')).toBe(0);
    d!.handler = jsonAnswer(MODELS);
    const res = await getModels(r);
    expect(res.status).toBe(200);
  });

  it('one of two waiting clients leaving does not cancel the shared call', async () => {
    let answer: (() => void) | undefined;
    const [d] = await fakes((_req, res) => {
      answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(MODELS));
      };
    });
    const r = await router([d!], 60_000);
    let routerRequests = 0;
    r.app.server.on('request', () => {
      routerRequests += 1;
    });
    // A raw socket, destroyed to leave: undici keeps an aborted request's socket open a while.
    const leaving = connect(Number(new URL(r.url).port), '127.0.0.1');
    leaving.on('error', () => undefined);
    leaving.write('GET /v1/models HTTP/1.1\r\nHost: router\r\n\r\n');
    await waitFor(() => d!.received.length === 1, 10_000, 'the models request upstream');
    const staying = getModels(r);
    // The second request must join the shared call before the first one leaves: wait until the
    // router has it, then a little more for its handler (no I/O on the way) to run.
    await waitFor(() => routerRequests === 2, 10_000, 'the second request at the router');
    await sleep(200);
    leaving.destroy();
    await sleep(200);
    expect(d!.aborted).toHaveLength(0);
    answer?.();
    const res = await staying;
    expect(res.status).toBe(200);
    expect(res.body).toEqual(MODELS);
    expect(d!.received).toHaveLength(1);
  });
});
