import { createMockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { expect, it } from 'vitest';
import {
  availableUrls,
  complete,
  discoveryAddress,
  HEALTH_OFF,
  Pinger,
  startDynamicRouter,
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
  await waitFor(
    () => workerUrls(router, 'prefill').length === 1 && workerUrls(router, 'decode').length === 1,
    15_000,
    'both to register',
  );
  // Discovered workers take traffic once they have answered a health check.
  await waitFor(
    () => availableUrls(router, 'prefill').length === 1 && availableUrls(router, 'decode').length === 1,
    15_000,
    'both to be admitted',
  );
  const worker = router.app.pd.registry.get(`decode:${d.url}`);

  const res = await request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-model', prompt: 'slow', max_tokens: 25, stream: true }),
  });
  expect(res.statusCode).toBe(200);
  const chunks: string[] = [];
  const done = (async () => {
    for await (const chunk of res.body) chunks.push(Buffer.from(chunk as Uint8Array).toString('utf8'));
  })();
  await waitFor(() => chunks.length > 0, 15_000, 'the first event');
  await pinger.close();
  await waitFor(() => workerUrls(router, 'decode').length === 0, ttlMs + 10_000, 'the decode to expire');
  expect(worker?.removed).toBe(true);
  expect(worker?.inFlight).toBe(1);
  // Nothing else may be sent there now.
  expect((await complete(router)).status).toBe(503);
  await done;
  const text = chunks.join('');
  expect(text.match(/"text":/g)).toHaveLength(25);
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  expect(worker?.inFlight).toBe(0);
});
