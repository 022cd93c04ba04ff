import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodeServer, createPrefillServer, type MockVllm } from '../src/index.js';
import { agent, chatBody, completionBody, completionOutcome, p2pId, post, sseData } from './helpers.js';

/** The decode that must fail waits this long; the one that must succeed is patient (a loaded CI machine). */
const KV_WAIT_MS = 400;
let prefill: MockVllm;
let decode: MockVllm;
let impatient: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer();
  decode = await createDecodeServer({ kvWaitTimeoutMs: 10_000 });
  impatient = await createDecodeServer({ kvWaitTimeoutMs: KV_WAIT_MS });
});
afterAll(async () => {
  await Promise.all([prefill.close(), decode.close(), impatient.close()]);
});

/** Router-style P then D with the same id. */
async function pd(route: string, body: Record<string, unknown>, id: string, d0: MockVllm = decode) {
  const p = await post(prefill.url, route, { ...body, max_tokens: 1 }, { 'x-request-id': id });
  const d = await post(d0.url, route, body, { 'x-request-id': id });
  return { p, d };
}

describe('P2P NCCL KV hand-off over ZeroMQ', () => {
  it('produces tokens when the prefill ran first with the right id (completions and chat)', async () => {
    const id = p2pId(prefill.kvAddress, decode.kvAddress);
    const { p, d } = await pd('/v1/completions', completionBody({ max_tokens: 3 }), id);
    expect(p.status).toBe(200);
    expect(JSON.parse(p.text).choices[0].text).toBe(' tok0');
    expect(d.status).toBe(200);
    expect(JSON.parse(d.text)).toMatchObject({ id: `cmpl-${id}`, choices: [{ text: ' tok0 tok1 tok2' }] });

    const chatId = p2pId(prefill.kvAddress, decode.kvAddress);
    const chat = await pd('/v1/chat/completions', chatBody({ stream: true }), chatId);
    expect(chat.d.status).toBe(200);
    expect(sseData(chat.d.text).at(-1)).toBe('[DONE]');
  });

  it('keeps a KV notice that arrives before the decode request', async () => {
    const id = p2pId(prefill.kvAddress, decode.kvAddress);
    await post(prefill.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
    await new Promise((r) => setTimeout(r, 50));
    const d = await post(decode.url, '/v1/completions', completionBody(), { 'x-request-id': id });
    expect(d.status).toBe(200);
  });

  it('times out with a 500 when the prefill was skipped', async () => {
    const id = p2pId(prefill.kvAddress, impatient.kvAddress);
    const d = await post(impatient.url, '/v1/completions', completionBody(), { 'x-request-id': id });
    expect(d.status).toBe(500);
    const error = JSON.parse(d.text).error;
    expect(error).toMatchObject({ type: 'InternalServerError', code: 500 });
    expect(error.message).toContain(`cmpl-${id}-0`);
    expect(error.message).toContain(`${KV_WAIT_MS} ms`);
  });

  it('ends a stream with an in-stream error when the KV never comes (headers were already 200)', async () => {
    const id = p2pId(prefill.kvAddress, impatient.kvAddress);
    const d = await post(impatient.url, '/v1/chat/completions', chatBody({ stream: true }), {
      'x-request-id': id,
    });
    expect(d.status).toBe(200);
    const data = sseData(d.text);
    expect(JSON.parse(data[0] ?? '{}').error).toMatchObject({ code: 500 });
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('fails when the router swapped the addresses in the id', async () => {
    const id = p2pId(impatient.kvAddress, prefill.kvAddress);
    const { p, d } = await pd('/v1/completions', completionBody(), id, impatient);
    expect(p.status).toBe(200); // the prefill pushed to the wrong instance: itself
    expect(d.status).toBe(500);
  });

  it('fails when prefill and decode legs use different routes (engine ids differ)', async () => {
    const id = p2pId(prefill.kvAddress, impatient.kvAddress);
    await post(prefill.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
    const d = await post(impatient.url, '/v1/chat/completions', chatBody(), { 'x-request-id': id });
    expect(d.status).toBe(500);
  });

  it('fails when the decode leg carries another id', async () => {
    const id = p2pId(prefill.kvAddress, impatient.kvAddress);
    await post(prefill.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
    const other = p2pId(prefill.kvAddress, impatient.kvAddress);
    const d = await post(impatient.url, '/v1/completions', completionBody(), { 'x-request-id': other });
    expect(d.status).toBe(500);
  });

  it('rejects ids without addresses on both roles, as the connector raises', async () => {
    for (const server of [prefill, decode]) {
      const r = await post(server.url, '/v1/completions', completionBody(), { 'x-request-id': 'plain-id' });
      expect(r.status).toBe(500);
      expect(JSON.parse(r.text).error.message).toBe(
        'Request id cmpl-plain-id does not contain hostname and port',
      );
    }
    const none = await post(impatient.url, '/v1/completions', completionBody());
    expect(none.status).toBe(500);
    const metrics = await (
      await agent.request({ origin: impatient.url, path: '/metrics', method: 'GET' })
    ).body.text();
    expect(metrics).toMatch(/vllm:kv_transfer_errors_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/vllm:kv_transfer_wait_timeouts_total\{[^}]*\} [1-9]/);
  });

  it('never matches when request-id randomization is emulated', async () => {
    const p2 = await createPrefillServer({ requestIdRandomization: true });
    const d2 = await createDecodeServer({ requestIdRandomization: true, kvWaitTimeoutMs: 300 });
    try {
      const id = p2pId(p2.kvAddress, d2.kvAddress);
      await post(p2.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
      const d = await post(d2.url, '/v1/completions', completionBody(), { 'x-request-id': id });
      expect(d.status).toBe(500);
    } finally {
      await Promise.all([p2.close(), d2.close()]);
    }
  });

  it("kvMode 'hang' waits past the timeout without answering (vLLM PUT mode), counted as waiting", async () => {
    const hanging = await createDecodeServer({ kvMode: 'hang', kvWaitTimeoutMs: 50 });
    try {
      const id = p2pId(prefill.kvAddress, hanging.kvAddress);
      const pending = post(hanging.url, '/v1/completions', completionBody(), { 'x-request-id': id });
      await until(() => hanging.waiting === 1);
      await new Promise((r) => setTimeout(r, 200));
      expect(hanging.waiting).toBe(1);
      expect(hanging.received.at(-1)?.status).toBeUndefined();
      // The KV finally arrives: the request proceeds.
      await post(prefill.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
      expect((await pending).status).toBe(200);

      const ac = new AbortController();
      const abandoned = completionOutcome(hanging.url, {
        signal: ac.signal,
        headers: { 'x-request-id': p2pId(prefill.kvAddress, hanging.kvAddress) },
      });
      await until(() => hanging.waiting === 1);
      ac.abort();
      expect(await abandoned).toBe('AbortError');
      await until(() => hanging.waiting === 0);
    } finally {
      await hanging.close();
    }
  });
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
