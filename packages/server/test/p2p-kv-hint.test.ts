import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P2P_KV_HINT } from '../src/routes/exchange.js';
import { asLogger, CaptureLogger, sleep, startRouter, testConfig } from './helpers.js';

// vLLM >= 0.14 appends a random suffix to request ids (vllm#27987), so a P2P NCCL decode waits for
// KV filed under another key until the router's TTFT budget ends it: the 504 and its log line must
// say why and what fixes it, not only that time ran out. mock-vllm emulates the randomization.
let prefill: MockVllm;
let decode: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer({ requestIdRandomization: true });
  decode = await createDecodeServer({ requestIdRandomization: true, kvWaitTimeoutMs: 30_000 });
});
afterAll(() => Promise.all([prefill.close(), decode.close()]));

describe('a P2P NCCL decode whose KV never arrives', () => {
  it('is a 504 naming the likely cause and the fix, in the answer and the log', async () => {
    const log = new CaptureLogger();
    const router = await startRouter(
      testConfig({ prefill: [prefill.workerSpec], decode: [decode.workerSpec], decodeTtftTimeoutMs: 500 }),
      { logger: asLogger(log) },
    );
    try {
      const res = await request(`${router.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-model', prompt: 'hi', max_tokens: 2 }),
      });
      expect(res.statusCode).toBe(504);
      expect(await res.body.json()).toEqual({
        error: {
          message: `decode worker #1 sent no first byte within 500 ms; ${P2P_KV_HINT}`,
          type: 'timeout_error',
          param: null,
          code: 'PD_ERR_DECODE_TIMEOUT',
        },
      });
      expect(P2P_KV_HINT).toContain('VLLM_DISABLE_REQUEST_ID_RANDOMIZATION=1');
      const warn = log.entries.find((e) => e.msg?.startsWith('P2P NCCL decode sent no first byte'));
      expect(warn?.level).toBe('warn');
      expect(warn?.fields).toMatchObject({ decode: decode.url, prefill: prefill.url, hint: P2P_KV_HINT });
      // The decode call was cut, so it does not wait on (or hold a slot) after the client got its 504.
      const deadline = Date.now() + 10_000;
      while (decode.received.at(-1)?.outcome !== 'aborted' && Date.now() < deadline) await sleep(10);
      expect(decode.received.at(-1)?.outcome).toBe('aborted');
    } finally {
      await router.close();
    }
  });
});
