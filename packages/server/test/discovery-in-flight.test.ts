import { createMockVllm } from '@pd-router/mock-vllm';
import { expect, it } from 'vitest';
import {
  complete,
  discoveryAddress,
  HEALTH_OFF,
  Pinger,
  slowStream,
  startDynamicRouter,
  untilPairAdmitted,
  workerUrls,
} from './dynamic-helpers.js';
import { closeAfterEach, testConfig, waitFor } from './helpers.js';

const open = closeAfterEach();

it('a worker that expires while a slow request runs on it finishes that request; new ones no longer go there', async () => {
  // The prefill must stay registered through a loaded machine's event-loop stalls (pings 100 ms
  // apart); the stream (25 tokens, 150 ms apart: 3.6 s) outlasts the decode's expiry (TTL + TTL/5).
  const ttlMs = 2_000;
  const router = await startDynamicRouter(
    testConfig({ discovery: { host: '127.0.0.1', port: 0, ttlMs, allow: [] }, health: HEALTH_OFF }),
  );
  open.push(router);
  const proxy = discoveryAddress(router);
  const p = await createMockVllm({ role: 'prefill', proxyAddress: proxy, registerIntervalMs: 100 });
  // The decode registers through a pinger the test controls, so it can fall silent and still serve.
  const d = await createMockVllm({ role: 'decode', timing: { interTokenMs: 150 }, kvWaitTimeoutMs: 5_000 });
  open.push(p, d);
  const pinger = new Pinger(
    proxy,
    { type: 'D', http_address: d.url.slice('http://'.length), zmq_address: d.kvAddress },
    100,
    d.kvAddress,
  );
  open.push(pinger);
  await untilPairAdmitted(router);
  const worker = router.app.pd.registry.get(`decode:${d.url}`);

  const stream = await slowStream(router, 25);
  await pinger.close();
  await waitFor(() => workerUrls(router, 'decode').length === 0, ttlMs + 10_000, 'the decode to expire');
  expect(worker?.removed).toBe(true);
  expect(worker?.inFlight).toBe(1);
  // Nothing else may be sent there now.
  expect((await complete(router)).status).toBe(503);
  const text = await stream.text;
  expect(text.match(/"text":/g)).toHaveLength(25);
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(worker?.inFlight).toBe(0);
});
