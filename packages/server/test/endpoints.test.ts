import { type AddressInfo, createServer } from 'node:net';
import { type Dispatcher, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { buildServer } from '../src/app.js';
import {
  asLogger,
  CaptureLogger,
  e2eKit,
  type FakeWorker,
  jsonAnswer,
  postCompletion,
  REFUSED_SPEC,
  type Router,
  startRouter,
  testConfig,
} from './helpers.js';

const kit = e2eKit();

async function workers(n = 1): Promise<{ p: FakeWorker[]; d: FakeWorker[] }> {
  const p: FakeWorker[] = [];
  const d: FakeWorker[] = [];
  for (let i = 0; i < n; i++) {
    p.push(await kit.worker(jsonAnswer({ prefill: true })));
    d.push(await kit.worker(jsonAnswer({ decode: true })));
  }
  return { p, d };
}

describe('GET /health, /readiness, /liveness', () => {
  it('200 with at least one healthy P and D, else 503 naming the empty pool', async () => {
    const { app: server } = (await kit.pair()).router;
    const ok = await server.inject({ method: 'GET', url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({
      status: 'ok',
      prefill: { healthy: 1, total: 1 },
      decode: { healthy: 1, total: 1 },
    });
    const registry = server.pd.registry;
    const decode = registry.list().find((w) => w.role === 'decode')!;
    registry.setHealthy(decode.id, false);
    const down = await server.inject({ method: 'GET', url: '/health' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({
      status: 'unavailable',
      reason: 'no healthy decode worker',
      prefill: { healthy: 1, total: 1 },
      decode: { healthy: 0, total: 1 },
    });
    expect((await server.inject({ method: 'GET', url: '/readiness' })).statusCode).toBe(503);
    registry.setHealthy(decode.id, true);
    expect((await server.inject({ method: 'GET', url: '/readiness' })).statusCode).toBe(200);
    const live = await server.inject({ method: 'GET', url: '/liveness' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
  });

  it('503 with no prefill worker configured', async () => {
    const { d } = await workers();
    const server = await buildServer(testConfig({ decode: [d[0]!.spec()] }));
    kit.open.push(server);
    const res = await server.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toBe('no healthy prefill worker');
  });
});

describe('GET /workers', () => {
  it('lists role, url, zmq, health and in-flight per worker, in flag order', async () => {
    const { p, d } = await workers(2);
    const server = await buildServer(
      testConfig({
        prefill: [p[0]!.spec('10.0.0.1:21001'), p[1]!.spec('10.0.0.2:21001')],
        decode: [d[0]!.spec('10.0.0.3:22001'), d[1]!.url],
      }),
    );
    kit.open.push(server);
    const res = await server.inject({ method: 'GET', url: '/workers' });
    expect(res.statusCode).toBe(200);
    const list = res.json().workers as {
      role: string;
      url: string;
      zmq: string;
      healthy: boolean;
      inFlight: number;
    }[];
    expect(list.map((w) => [w.role, w.url, w.zmq, w.healthy, w.inFlight])).toEqual([
      ['prefill', p[0]!.url, '10.0.0.1:21001', true, 0],
      ['prefill', p[1]!.url, '10.0.0.2:21001', true, 0],
      ['decode', d[0]!.url, '10.0.0.3:22001', true, 0],
      ['decode', d[1]!.url, d[1]!.hostHeader, true, 0],
    ]);
  });
});

describe('GET /v1/models', () => {
  it("serves a decode worker's answer, cached for a few seconds", async () => {
    const models = { object: 'list', data: [{ id: 'mock-model', object: 'model' }] };
    const { p, d, router } = await kit.pair({}, { decode: jsonAnswer(models) });
    const server = router.app;
    for (let i = 0; i < 3; i++) {
      const res = await server.inject({ method: 'GET', url: '/v1/models' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json()).toEqual(models);
    }
    expect(d.received.map((r) => [r.method, r.url])).toEqual([['GET', '/v1/models']]);
    expect(d.received[0]?.headers.authorization).toBe('Bearer None');
    expect(p.received).toHaveLength(0);
  });

  it('502 PD_ERR_DECODE_UNAVAILABLE when no decode worker answers (not cached)', async () => {
    const { p } = await workers();
    const server = await buildServer(testConfig({ prefill: [p[0]!.spec()], decode: [REFUSED_SPEC] }));
    kit.open.push(server);
    const res = await server.inject({ method: 'GET', url: '/v1/models' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      error: {
        message: 'decode worker #1 could not be reached',
        type: 'upstream_error',
        param: null,
        code: 'PD_ERR_DECODE_UNAVAILABLE',
      },
    });
  });
});

describe('GET /metrics', () => {
  it('counts requests by route and status, phases, decisions and in-flight per worker', async () => {
    const { p, d, router } = await kit.pair();
    for (let i = 0; i < 3; i++) {
      const res = await postCompletion(router);
      await res.body.dump();
    }
    await (await request(`${router.url}/v1/chat/completions`, { method: 'POST', body: 'x' })).body.dump();
    const res = await request(`${router.url}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = await res.body.text();
    const pw = p.url;
    const dw = d.url;
    expect(text).toContain('pd_router_requests_total{route="/v1/completions",status="200"} 3');
    expect(text).toContain('pd_router_requests_total{route="/v1/chat/completions",status="415"} 1');
    expect(text).toContain(`pd_router_prefill_duration_seconds_count{worker="${pw}"} 3`);
    expect(text).toContain(`pd_router_decode_ttfb_seconds_count{worker="${dw}"} 3`);
    expect(text).toContain('pd_router_request_duration_seconds_count{route="/v1/completions"} 3');
    expect(text).toContain(
      `pd_router_policy_decisions_total{role="prefill",worker="${pw}",policy="round_robin",reason="round_robin"} 3`,
    );
    expect(text).toContain(
      `pd_router_policy_decisions_total{role="decode",worker="${dw}",policy="round_robin",reason="round_robin"} 3`,
    );
    expect(text).toContain(`pd_router_worker_in_flight{role="decode",worker="${dw}"} 0`);
    expect(text).toContain(`pd_router_worker_healthy{role="prefill",worker="${pw}"} 1`);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('with prometheusPort set: a separate listener serves /metrics once the server listens, closed with it', async () => {
    const { p, d } = await workers();
    // A port free a moment ago may have been taken since by another process: the router then logs
    // the failed bind (it cannot fail its listen() for it), and the test tries another port.
    let router: Router | undefined;
    let res: Dispatcher.ResponseData | undefined;
    let port = 0;
    for (let attempt = 1; router === undefined; attempt++) {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const log = new CaptureLogger();
      const started = await startRouter(
        testConfig({
          prefill: [p[0]!.spec()],
          decode: [d[0]!.spec()],
          prometheusPort: port,
          prometheusHost: '127.0.0.1',
        }),
        { logger: asLogger(log) },
      );
      const answer = await request(`http://127.0.0.1:${port}/metrics`).catch((error: unknown) => error);
      if (!log.entries.some((e) => e.msg === `metrics listener on port ${port} failed`)) {
        router = started;
        if (answer instanceof Error) throw answer;
        res = answer as Dispatcher.ResponseData;
      } else {
        if (!(answer instanceof Error)) await (answer as Dispatcher.ResponseData).body.dump();
        await started.close();
        if (attempt === 5) throw new Error(`the metrics port was taken ${attempt} times in a row`);
      }
    }
    expect(res?.statusCode).toBe(200);
    expect(await res?.body.text()).toContain('pd_router_requests_total');
    const other = await request(`http://127.0.0.1:${port}/other`);
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    const main = await request(`${router.url}/metrics`);
    expect(main.statusCode).toBe(404);
    await main.body.dump();
    await router.close();
    await expect(request(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
