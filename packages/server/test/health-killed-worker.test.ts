import { createMockVllm } from '@pd-router/mock-vllm';
import { expect, it } from 'vitest';
import { availableUrls, complete, HEALTH_OFF, startDynamicRouter } from './dynamic-helpers.js';
import { asLogger, CaptureLogger, closeAfterEach, sleep, testConfig, waitFor } from './helpers.js';

const open = closeAfterEach();

const CLIENTS = 8;
const BODY = { model: 'mock-model', prompt: 'load', max_tokens: 10 };

it('a decode worker killed under load costs only the requests in flight on it', async () => {
  const p = await createMockVllm({ role: 'prefill' });
  const d1 = await createMockVllm({ role: 'decode', timing: { interTokenMs: 20 }, kvWaitTimeoutMs: 5_000 });
  const d2 = await createMockVllm({ role: 'decode', timing: { interTokenMs: 20 }, kvWaitTimeoutMs: 5_000 });
  open.push(p, d1, d2);
  const log = new CaptureLogger();
  const router = await startDynamicRouter(
    testConfig({
      prefill: [p.workerSpec],
      decode: [d1.workerSpec, d2.workerSpec],
      health: {
        ...HEALTH_OFF,
        checkIntervalMs: 100,
        // A check of the surviving d1 must never time out on a loaded machine (d1 would leave the
        // pools); the killed d2's checks fail at once (connection refused), whatever this is.
        checkTimeoutMs: 2_000,
        failureThreshold: 2,
        circuitFailureThreshold: 1,
        circuitOpenMs: 60_000,
      },
    }),
    { logger: asLogger(log) },
  );
  open.push(router);
  const d1Worker = router.app.pd.registry.get(`decode:${d1.url}`);
  const d2Worker = router.app.pd.registry.get(`decode:${d2.url}`);

  let running = true;
  const loops = Array.from({ length: CLIENTS }, async () => {
    while (running) await complete(router, BODY);
  });
  await waitFor(() => d2.received.length >= CLIENTS, 20_000, 'load on d2');
  // Each client has one request out. Those in flight on d1 cannot fail; the others may: the ones
  // on d2, and the ones not yet picked (on a loaded machine the router may read them, and hand
  // some to d2, in the same event-loop turn as d2's resets, before the first failure opens its circuit).
  const mayFail = CLIENTS - (d1Worker?.inFlight ?? 0);
  await d2.close();
  await sleep(800);
  running = false;
  await Promise.all(loops);

  const lines = log.proxied().map((e) => e.fields as { decode?: string; status?: number });
  const failed = lines.filter((l) => l.status !== 200);
  // Every failure was a request on the killed worker, and only those out when it died: once the
  // first failure opened its circuit, no request went there (without that, every other request of
  // the 800 ms below would fail).
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((l) => l.decode === d2.url)).toBe(true);
  expect(failed.length).toBeLessThanOrEqual(mayFail);
  expect(lines.filter((l) => l.status === 200 && l.decode === d1.url).length).toBeGreaterThan(CLIENTS);
  // It left the pools (passive: its circuit opened; active: its health checks fail too).
  expect(availableUrls(router, 'decode')).toEqual([d1.url]);
  expect(d2Worker?.circuit).toBe('open');
  await waitFor(() => d2Worker?.health.checkHealthy === false, 15_000, 'the health checks to notice');
  const after = await Promise.all(Array.from({ length: 6 }, () => complete(router, BODY)));
  expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
});
