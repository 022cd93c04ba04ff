import { describe, expect, it } from 'vitest';
import { availableUrls, complete, HEALTH_OFF, metricValue, startDynamicRouter } from './dynamic-helpers.js';
import {
  closeAfterEach,
  type FakeWorker,
  jsonAnswer,
  REFUSED_SPEC,
  sleep,
  startFakeWorker,
  testConfig,
  waitFor,
} from './helpers.js';

const open = closeAfterEach();

/**
 * Long enough that the requests checked while a circuit is open all fit inside the open period even
 * on a loaded machine (the circuit turning half-open early would hand d1 an extra probe).
 */
const OPEN_MS = 2_000;

/** Decode requests a fake worker has received (health checks excluded). */
function completions(w: FakeWorker): number {
  return w.received.filter((r) => r.url === '/v1/completions').length;
}

describe('the circuit breaker, through real requests', () => {
  it('opens on consecutive failures, probes once when half-open, and closes when the probe succeeds', async () => {
    const p = await startFakeWorker(jsonAnswer({ ok: true }));
    const d1 = await startFakeWorker();
    const d2 = await startFakeWorker(jsonAnswer({ choices: [{ text: 'd2' }] }));
    open.push(p, d1, d2);
    let d1Fails = true;
    d1.handler = async (_req, res) => {
      await sleep(50);
      if (d1Fails)
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"d1"}]}');
    };
    const router = await startDynamicRouter(
      testConfig({
        prefill: [p.spec()],
        decode: [d1.spec(), d2.spec()],
        health: { ...HEALTH_OFF, circuitFailureThreshold: 2, circuitOpenMs: OPEN_MS },
      }),
    );
    open.push(router);
    const d1Worker = router.app.pd.registry.get(`decode:${d1.url}`);

    // Round robin alternates d1, d2: d1's two 500s (relayed as they are) open its circuit.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await complete(router)).status);
    expect(statuses).toEqual([500, 200, 500, 200]);
    expect(d1Worker?.circuit).toBe('open');
    expect(availableUrls(router, 'decode')).toEqual([d2.url]);
    expect(
      await metricValue(router, `pd_router_worker_circuit_state{role="decode",worker="${d1.url}"}`),
    ).toBe(2);
    for (let i = 0; i < 3; i++) expect((await complete(router)).status).toBe(200);
    expect(completions(d1)).toBe(2);

    // Half-open: concurrent requests, but only one probes d1; it fails, so the circuit reopens.
    await waitFor(() => d1Worker?.circuit === 'half_open', OPEN_MS + 10_000, 'half-open');
    const burst = await Promise.all(Array.from({ length: 6 }, () => complete(router)));
    expect(completions(d1)).toBe(3);
    expect(burst.filter((r) => r.status === 500)).toHaveLength(1);
    expect(d1Worker?.circuit).toBe('open');

    // Fixed: the next probe succeeds and d1 is back in rotation.
    d1Fails = false;
    await waitFor(() => d1Worker?.circuit === 'half_open', OPEN_MS + 10_000, 'half-open again');
    const again = await Promise.all(Array.from({ length: 4 }, () => complete(router)));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await waitFor(() => d1Worker?.circuit === 'closed', 10_000, 'closed');
    expect(availableUrls(router, 'decode')).toEqual([d1.url, d2.url]);
    const before = completions(d1);
    for (let i = 0; i < 4; i++) expect((await complete(router)).status).toBe(200);
    expect(completions(d1)).toBe(before + 2);
    const transitions = (to: string) =>
      metricValue(router, `pd_router_circuit_transitions_total{role="decode",to="${to}"}`);
    expect(await transitions('open')).toBe(2);
    expect(await transitions('half_open')).toBe(2);
    expect(await transitions('closed')).toBe(1);
  });

  it('counts connection failures too, on the prefill side as well', async () => {
    const p1 = await startFakeWorker(jsonAnswer({ ok: true }));
    const d = await startFakeWorker(jsonAnswer({ choices: [] }));
    open.push(p1, d);
    const router = await startDynamicRouter(
      testConfig({
        // p2 refuses connections (nobody listens there).
        prefill: [p1.spec(), REFUSED_SPEC],
        decode: [d.spec()],
        health: { ...HEALTH_OFF, circuitFailureThreshold: 1, circuitOpenMs: 60_000 },
      }),
    );
    open.push(router);
    const results = [];
    for (let i = 0; i < 4; i++) results.push((await complete(router)).status);
    // One refused connection opens p2's circuit; from then on every request succeeds.
    expect(results).toEqual([200, 502, 200, 200]);
    expect(availableUrls(router, 'prefill')).toEqual([p1.url]);
  });

  it('never empties a pool: the only decode stays in use while its circuit is open (panic mode)', async () => {
    const p = await startFakeWorker(jsonAnswer({ ok: true }));
    const d = await startFakeWorker();
    open.push(p, d);
    let failing = true;
    d.handler = (_req, res) => {
      if (failing) res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"d"}]}');
    };
    const router = await startDynamicRouter(
      testConfig({
        prefill: [p.spec()],
        decode: [d.spec()],
        health: { ...HEALTH_OFF, circuitFailureThreshold: 2, circuitOpenMs: 60_000 },
      }),
    );
    open.push(router);
    const dWorker = router.app.pd.registry.get(`decode:${d.url}`);
    expect((await complete(router)).status).toBe(503);
    expect((await complete(router)).status).toBe(503);
    expect(dWorker?.circuit).toBe('open');
    // The worker recovers long before its circuit would be probed: requests reach it anyway.
    failing = false;
    for (let i = 0; i < 3; i++) expect((await complete(router)).status).toBe(200);
    expect(completions(d)).toBe(5);
    expect(dWorker?.circuit).toBe('open');
    expect(await metricValue(router, 'pd_router_pool_panic{role="decode"}')).toBe(1);
    expect(await metricValue(router, 'pd_router_pool_panics_total{role="decode"}')).toBe(1);
    expect(await metricValue(router, 'pd_router_pool_panic{role="prefill"}')).toBe(0);
  });
});
