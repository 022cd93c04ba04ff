import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { availableUrls, complete, HEALTH_OFF, metricValue, startDynamicRouter } from './dynamic-helpers.js';
import {
  closeAfterEach,
  type FakeRequest,
  type FakeWorker,
  startFakeWorker,
  testConfig,
  waitFor,
} from './helpers.js';

const open = closeAfterEach();

type HealthMode = 'ok' | 'error' | 'hang';

/** A fake worker whose `GET /health` answers as `mode.value` says; completions get a small JSON. */
async function worker(mode: { value: HealthMode }): Promise<FakeWorker> {
  const w = await startFakeWorker((req: FakeRequest, res: ServerResponse) => {
    if (req.url === '/health') {
      if (mode.value === 'hang') return;
      res.writeHead(mode.value === 'ok' ? 200 : 503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"ok"}]}');
  });
  open.push(w);
  return w;
}

describe('active health checks', () => {
  it('take a failing worker out after the failure threshold and bring it back after the success threshold', async () => {
    const pMode = { value: 'ok' as HealthMode };
    const d1Mode = { value: 'ok' as HealthMode };
    const d2Mode = { value: 'ok' as HealthMode };
    const p = await worker(pMode);
    const d1 = await worker(d1Mode);
    const d2 = await worker(d2Mode);
    const router = await startDynamicRouter(
      testConfig({
        prefill: [p.spec()],
        decode: [d1.spec(), d2.spec()],
        health: {
          ...HEALTH_OFF,
          checkIntervalMs: 50,
          // Well above a loaded machine's event-loop stalls, so a check on a healthy worker never
          // times out by accident (which would add transitions); the hang case waits this long.
          checkTimeoutMs: 1_000,
          failureThreshold: 2,
          successThreshold: 2,
        },
      }),
    );
    open.push(router);
    await waitFor(() => d2.received.some((r) => r.url === '/health'), 15_000, 'the first check');
    expect(availableUrls(router, 'decode')).toEqual([d1.url, d2.url]);

    d2Mode.value = 'error';
    await waitFor(() => availableUrls(router, 'decode').length === 1, 15_000, 'd2 to leave');
    expect(availableUrls(router, 'decode')).toEqual([d1.url]);
    const before = d2.received.filter((r) => r.url === '/v1/completions').length;
    for (let i = 0; i < 4; i++) expect((await complete(router)).status).toBe(200);
    expect(d2.received.filter((r) => r.url === '/v1/completions').length).toBe(before);

    d2Mode.value = 'ok';
    await waitFor(() => availableUrls(router, 'decode').length === 2, 15_000, 'd2 to come back');

    // A check that never answers counts as failed after the timeout.
    d1Mode.value = 'hang';
    await waitFor(() => availableUrls(router, 'decode').join() === d2.url, 15_000, 'the hung d1 to leave');
    expect(
      await metricValue(router, 'pd_router_worker_health_transitions_total{role="decode",to="unhealthy"}'),
    ).toBe(2);
    expect(
      await metricValue(router, 'pd_router_worker_health_transitions_total{role="decode",to="healthy"}'),
    ).toBe(1);
    expect(router.app.pd.registry.get(`decode:${d1.url}`)?.health.checkHealthy).toBe(false);
  });

  it('check the path of --health-check-endpoint', async () => {
    const pingOk = { value: true };
    const answer = (req: FakeRequest, res: ServerResponse): void => {
      if (req.url === '/ping') res.writeHead(pingOk.value ? 200 : 503).end();
      else if (req.url === '/health') res.writeHead(500).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"ok"}]}');
    };
    const p = await startFakeWorker(answer);
    const d = await startFakeWorker(answer);
    open.push(p, d);
    const router = await startDynamicRouter(
      testConfig({
        prefill: [p.spec()],
        decode: [d.spec()],
        health: { ...HEALTH_OFF, checkIntervalMs: 50, checkPath: '/ping', failureThreshold: 2 },
      }),
    );
    open.push(router);
    await waitFor(() => d.received.filter((r) => r.url === '/ping').length >= 3, 15_000, 'checks on /ping');
    expect(d.received.some((r) => r.url === '/health')).toBe(false);
    expect(availableUrls(router, 'decode')).toEqual([d.url]);
    pingOk.value = false;
    await waitFor(() => availableUrls(router, 'decode').length === 0, 15_000, 'd to leave');
  });
});
