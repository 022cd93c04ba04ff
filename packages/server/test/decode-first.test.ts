import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Router, startRouter, testConfig } from './helpers.js';
import { completionsBody, kvParamsOf, LONG_PROMPT, metricValue, post } from './nixl-helpers.js';

// pd_aware decode-first against real NIXL mocks: a short prompt skips the prefill leg and the
// decode, given no kv_transfer_params, computes it (vLLM's NixlConnector does the same).
let prefill: MockVllm;
let decode: MockVllm;
let router: Router;

beforeAll(async () => {
  prefill = await createPrefillServer({ kvConnector: 'nixl' });
  decode = await createDecodeServer({ kvConnector: 'nixl' });
  router = await startRouter(
    testConfig({
      kvConnector: 'nixl',
      prefill: [prefill.workerSpec],
      decode: [decode.workerSpec],
      policy: 'pd_aware',
      prefillPolicy: 'pd_aware',
      decodePolicy: 'pd_aware',
      decodeFirstTokens: 100,
    }),
  );
});

afterAll(async () => {
  await router.close();
  await Promise.all([prefill.close(), decode.close()]);
});

beforeEach(async () => {
  await Promise.all([prefill.reset(), decode.reset()]);
});

describe('pd_aware decode-first (NIXL)', () => {
  it('a short prompt goes to the decode alone, without kv_transfer_params, and is counted', async () => {
    const before = await metricValue(router, 'pd_router_decode_first_total');
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { choices: { text: string }[] }).choices[0]?.text).toBe(
      ' tok0 tok1 tok2',
    );
    expect(prefill.received).toHaveLength(0);
    expect(decode.received).toHaveLength(1);
    expect(kvParamsOf(decode.received[0]?.body ?? Buffer.alloc(0))).toBeUndefined();
    expect(JSON.parse(decode.received[0]?.body.toString('utf8') ?? '{}')).toEqual(
      JSON.parse(completionsBody()),
    );
    expect(await metricValue(router, 'pd_router_decode_first_total')).toBe(before + 1);
  });

  it('a prompt above the threshold takes the prefill leg as usual', async () => {
    const before = await metricValue(router, 'pd_router_decode_first_total');
    const res = await post(router, '/v1/completions', completionsBody({ prompt: LONG_PROMPT.repeat(6) }));
    expect(res.status).toBe(200);
    expect(prefill.received).toHaveLength(1);
    expect(kvParamsOf(decode.received[0]?.body ?? Buffer.alloc(0))).toMatchObject({
      do_remote_prefill: true,
    });
    expect(await metricValue(router, 'pd_router_decode_first_total')).toBe(before);
  });
});
