import { parseWorkerUrl } from '@pd-router/core';
import { createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerConfig } from '../src/config/types.js';
import { jsonAnswer, type Router, sleep, startFakeWorker, startRouter, testConfig } from './helpers.js';
import { MOONCAKE_DP2_PREFILL, mockVllmWorkersForFile } from './mock-vllm-pair.js';
import { chatBody, completionsBody, errorOf, kvParamsOf, post, UUID4 } from './nixl-helpers.js';

// The Mooncake flow end to end with mock-vllm's Mooncake mode: the prefill's engine ids come from
// its bootstrap server, both legs go out together, the decode pulls its KV by transfer_id, and
// every failure ends with a coded error instead of a decode waiting for KV that never comes.
const open: { close(): Promise<void> }[] = [];
const mocks = mockVllmWorkersForFile({ prefill: MOONCAKE_DP2_PREFILL, decode: { kvConnector: 'mooncake' } });
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

function mooncakePrefill(p: MockVllm): WorkerConfig {
  const address = parseWorkerUrl(p.url, { zmqUnused: true });
  if (!address.ok) throw address.error;
  return { spec: p.url, address: address.value, bootstrapPort: p.bootstrapPort ?? 0 };
}

function mooncakeDecode(url: string): WorkerConfig {
  const address = parseWorkerUrl(url, { zmqUnused: true });
  if (!address.ok) throw address.error;
  return { spec: url, address: address.value };
}

async function routerFor(
  prefills: readonly WorkerConfig[],
  decodes: readonly WorkerConfig[],
  overrides: Parameters<typeof testConfig>[0] = {},
): Promise<Router> {
  const router = await startRouter(
    testConfig({
      kvConnector: 'mooncake',
      prefill: prefills,
      decode: decodes,
      prefillTimeoutMs: 5_000,
      decodeTtftTimeoutMs: 5_000,
      ...overrides,
    }),
    { mooncakeRetry: { retryInitialMs: 20, retryMaxMs: 100 } },
  );
  open.push(router);
  return router;
}

/** Waits until the router lists every prefill as healthy, its engine ids known. */
async function untilRoutable(router: Router, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await request(`${router.url}/workers`, { headers });
    const { workers } = (await res.body.json()) as {
      workers: { role: string; healthy: boolean; kvReady: boolean }[];
    };
    if (workers.filter((w) => w.role === 'prefill').every((w) => w.healthy && w.kvReady)) return;
    if (Date.now() > deadline) throw new Error(`a prefill never became routable: ${JSON.stringify(workers)}`);
    await sleep(20);
  }
}

describe('Mooncake flow with mock-vllm', () => {
  it('sends both legs with one id and transfer_id; the decode pulls the KV; ranks cycle per prefill', async () => {
    const router = await routerFor([mooncakePrefill(mocks.prefill)], [mooncakeDecode(mocks.decode.url)]);
    await untilRoutable(router);
    for (const rank of [0, 1, 0]) {
      const res = await post(router, '/v1/chat/completions', chatBody());
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).choices[0].message.content).toBe(' tok0 tok1 tok2');
      const p = mocks.prefill.received.at(-1);
      const d = mocks.decode.received.at(-1);
      expect(p?.requestId).toMatch(UUID4);
      expect(d?.requestId).toBe(p?.requestId);
      expect(p?.headers['x-data-parallel-rank']).toBe(String(rank));
      expect(d?.headers['x-data-parallel-rank']).toBeUndefined();
      expect(kvParamsOf(p?.body ?? Buffer.from('{}'))).toEqual({
        do_remote_decode: true,
        do_remote_prefill: false,
        transfer_id: `xfer-${p?.requestId}`,
      });
      expect(kvParamsOf(d?.body ?? Buffer.from('{}'))).toEqual({
        do_remote_decode: false,
        do_remote_prefill: true,
        remote_bootstrap_addr: `http://127.0.0.1:${mocks.prefill.bootstrapPort}`,
        remote_engine_id: rank === 0 ? 'engine-P1' : 'engine-P1_dp1',
        transfer_id: `xfer-${p?.requestId}`,
      });
      expect(d?.mooncake?.path).toBe('decode-pulled');
      expect(p?.mooncake).toMatchObject({ path: 'prefill-held', rank });
    }
  });

  it('streams the decode, and both legs are dispatched before the prefill answers', async () => {
    const slow = await createPrefillServer({ kvConnector: 'mooncake', timing: { ttftBaseMs: 400 } });
    open.push(slow);
    const router = await routerFor([mooncakePrefill(slow)], [mooncakeDecode(mocks.decode.url)]);
    await untilRoutable(router);
    const res = await post(router, '/v1/completions', completionsBody({ stream: true }));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/event-stream; charset=utf-8');
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const p = slow.received.at(-1);
    const d = mocks.decode.received.at(-1);
    expect(d?.receivedAt).toBeLessThan(p?.completedAt ?? 0);
  });

  it('does not route to a prefill whose bootstrap server is down, then does once /query answers', async () => {
    await mocks.prefill.setFaults([{ kind: 'mooncake-bootstrap-down' }]);
    const router = await routerFor([mooncakePrefill(mocks.prefill)], [mooncakeDecode(mocks.decode.url)]);
    await sleep(200);
    const refused = await post(router, '/v1/completions', completionsBody());
    expect(refused.status).toBe(503);
    expect(errorOf(refused.text).code).toBe('PD_ERR_NO_PREFILL_WORKER');
    expect(mocks.prefill.received).toHaveLength(0);
    expect(mocks.decode.received).toHaveLength(0);
    await mocks.prefill.setFaults([]);
    await untilRoutable(router);
    expect((await post(router, '/v1/completions', completionsBody())).status).toBe(200);
  });

  it("learns an admin-added prefill's engine ids from the bootstrap_port it was given", async () => {
    const router = await routerFor([], [mooncakeDecode(mocks.decode.url)], { adminApiKey: 'admin-key' });
    const added = await request(`${router.url}/admin/workers`, {
      method: 'POST',
      headers: { authorization: 'Bearer admin-key', 'content-type': 'application/json' },
      body: JSON.stringify({
        role: 'prefill',
        url: mocks.prefill.url,
        bootstrap_port: mocks.prefill.bootstrapPort,
      }),
    });
    expect(added.statusCode).toBe(201);
    expect(await added.body.json()).toMatchObject({ worker: { role: 'prefill', kvReady: false } });
    await untilRoutable(router, { authorization: 'Bearer admin-key' });
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(mocks.decode.received.at(-1)?.mooncake?.path).toBe('decode-pulled');
  });

  it('refuses a batch of prompts with a coded 400 and sends nothing', async () => {
    const router = await routerFor([mooncakePrefill(mocks.prefill)], [mooncakeDecode(mocks.decode.url)]);
    await untilRoutable(router);
    const res = await post(router, '/v1/completions', completionsBody({ prompt: ['a', 'b'] }));
    expect(res.status).toBe(400);
    expect(errorOf(res.text)).toMatchObject({ code: 'PD_ERR_MOONCAKE_BATCH_UNSUPPORTED', param: 'prompt' });
    expect(mocks.prefill.received).toHaveLength(0);
  });
});

describe('Mooncake failure rows', () => {
  it('a prefill that fails aborts the waiting decode: the client gets the prefill error, not a hang', async () => {
    const router = await routerFor([mooncakePrefill(mocks.prefill)], [mooncakeDecode(mocks.decode.url)]);
    await untilRoutable(router);
    await mocks.prefill.setFaults([{ kind: 'status', status: 500, times: 1 }]);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(502);
    expect(errorOf(res.text).code).toBe('PD_ERR_PREFILL_UPSTREAM_STATUS');
    await untilAborted(mocks.decode);
  });

  it('a prefill that hangs past its budget aborts the decode with a 504', async () => {
    const router = await routerFor([mooncakePrefill(mocks.prefill)], [mooncakeDecode(mocks.decode.url)], {
      prefillTimeoutMs: 300,
    });
    await untilRoutable(router);
    await mocks.prefill.setFaults([{ kind: 'hang', times: 1 }]);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(504);
    expect(errorOf(res.text).code).toBe('PD_ERR_PREFILL_TIMEOUT');
    await untilAborted(mocks.decode);
  });

  it('a decode whose KV does not come within the TTFT budget gets a 504, and the prefill is aborted', async () => {
    const stuck = await createPrefillServer({ kvConnector: 'mooncake', timing: { ttftBaseMs: 2_000 } });
    open.push(stuck);
    const router = await routerFor([mooncakePrefill(stuck)], [mooncakeDecode(mocks.decode.url)], {
      decodeTtftTimeoutMs: 300,
    });
    await untilRoutable(router);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(504);
    expect(errorOf(res.text).code).toBe('PD_ERR_DECODE_TIMEOUT');
    await untilAborted(stuck);
  });

  it('a decode that fails aborts the prefill', async () => {
    const slow = await createPrefillServer({ kvConnector: 'mooncake', timing: { ttftBaseMs: 2_000 } });
    open.push(slow);
    const broken = await startFakeWorker(jsonAnswer({ error: 'down' }, 503));
    open.push(broken);
    const router = await routerFor([mooncakePrefill(slow)], [mooncakeDecode(broken.url)]);
    await untilRoutable(router);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(503);
    await untilAborted(slow);
  });

  it('a client that leaves aborts both legs', async () => {
    const slow = await createPrefillServer({ kvConnector: 'mooncake', timing: { ttftBaseMs: 3_000 } });
    open.push(slow);
    const router = await routerFor([mooncakePrefill(slow)], [mooncakeDecode(mocks.decode.url)]);
    await untilRoutable(router);
    const ac = new AbortController();
    const pending = request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: completionsBody(),
      signal: ac.signal,
    }).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while ((slow.received.length === 0 || mocks.decode.received.length === 0) && Date.now() < deadline)
      await sleep(10);
    ac.abort();
    await pending;
    await untilAborted(slow);
    await untilAborted(mocks.decode);
  });
});

/** Waits until the mock's last request ended without its whole answer (the router cut it). */
async function untilAborted(mock: MockVllm, budgetMs = 10_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (mock.received.at(-1)?.outcome !== 'aborted') {
    if (Date.now() > deadline) throw new Error(`the ${mock.role} leg was not aborted`);
    await sleep(10);
  }
}
