import { createMockVllm } from '@pd-router/mock-vllm';
import { afterEach, expect, it } from 'vitest';
import { availableUrls, complete, HEALTH_OFF, startDynamicRouter } from './dynamic-helpers.js';
import { asLogger, CaptureLogger, sleep, testConfig, waitFor } from './helpers.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(
    open
      .splice(0)
      .reverse()
      .map((o) => o.close()),
  );
});

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
        checkTimeoutMs: 500,
        failureThreshold: 2,
        circuitFailureThreshold: 1,
        circuitOpenMs: 60_000,
      },
    }),
    { logger: asLogger(log) },
  );
  open.push(router);
  const d2Worker = router.app.pd.registry.get(`decode:${d2.url}`);

  let running = true;
  const loops = Array.from({ length: CLIENTS }, async () => {
    while (running) await complete(router, BODY);
  });
  await waitFor(() => d2.received.length >= CLIENTS, 10_000, 'load on d2');
  const inFlightAtKill = d2Worker?.inFlight ?? 0;
  await d2.close();
  await sleep(800);
  running = false;
  await Promise.all(loops);

  const lines = log.proxied().map((e) => e.fields as { decode?: string; status?: number });
  const failed = lines.filter((l) => l.status !== 200);
  // Every failure was a request on the killed worker, and only those in flight when it died
  // (plus at most a couple picked in the instant before the first failure opened its circuit).
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((l) => l.decode === d2.url)).toBe(true);
  expect(failed.length).toBeLessThanOrEqual(inFlightAtKill + 2);
  expect(lines.filter((l) => l.status === 200 && l.decode === d1.url).length).toBeGreaterThan(CLIENTS);
  // It left the pools (passive: its circuit opened; active: its health checks fail too).
  expect(availableUrls(router, 'decode')).toEqual([d1.url]);
  expect(d2Worker?.circuit).toBe('open');
  await waitFor(() => d2Worker?.checkHealthy === false, 5_000, 'the health checks to notice');
  const after = await Promise.all(Array.from({ length: 6 }, () => complete(router, BODY)));
  expect(after.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
});
