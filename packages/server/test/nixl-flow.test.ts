import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNixlConnector } from '../src/connectors/nixl.js';
import { asLogger, CaptureLogger, type Router, startRouter, testConfig } from './helpers.js';
import { chatBody, completionsBody, kvParamsOf, metricValue, post, UUID4 } from './nixl-helpers.js';

// The whole NIXL flow against mock-vllm in NIXL mode: the prefill holds real blocks, the decode
// reads them over the mock's ZeroMQ side channel (or recomputes, and says so).
let prefill: MockVllm;
let decode: MockVllm;
let router: Router;
let log: CaptureLogger;
const extra: Router[] = [];

const PREFILL_SKELETON =
  '{"do_remote_decode": true, "do_remote_prefill": false, "remote_engine_id": null, "remote_block_ids": null, "remote_host": null, "remote_port": null}';

function nixlConfig(overrides: Parameters<typeof testConfig>[0] = {}) {
  return testConfig({
    kvConnector: 'nixl',
    prefill: [prefill.workerSpec],
    decode: [decode.workerSpec],
    prefillTimeoutMs: 5_000,
    decodeTtftTimeoutMs: 10_000,
    ...overrides,
  });
}

beforeAll(async () => {
  prefill = await createPrefillServer({ kvConnector: 'nixl' });
  decode = await createDecodeServer({ kvConnector: 'nixl', nixlReadTimeoutMs: 3_000 });
  log = new CaptureLogger();
  router = await startRouter(nixlConfig(), { logger: asLogger(log) });
});

afterAll(async () => {
  await router.close();
  await Promise.all([prefill.close(), decode.close()]);
});

beforeEach(async () => {
  log.entries.length = 0;
  await Promise.all([prefill.reset(), decode.reset()]);
});

afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.close()));
});

function recomputeLines() {
  return log.entries.filter((e) => e.level === 'warn' && /recomputes the prompt/.test(e.msg ?? ''));
}

describe('NIXL flow against mock-vllm (blocks really read over the side channel)', () => {
  it('completions: P gets the skeleton, D the params from its answer, the blocks are read, no recompute', async () => {
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/json/);
    expect((JSON.parse(res.text) as { choices: { text: string }[] }).choices[0]?.text).toBe(
      ' tok0 tok1 tok2',
    );

    const p = prefill.received[0];
    const d = decode.received[0];
    expect(p?.requestId).toMatch(UUID4);
    expect(d?.requestId).toBe(p?.requestId);
    // The NIXL toy proxy's skeleton, its key order and Python's separators included.
    expect(p?.body.toString('utf8')).toContain(`"kv_transfer_params": ${PREFILL_SKELETON}`);
    expect(kvParamsOf(p?.body ?? Buffer.alloc(0))).toEqual(JSON.parse(PREFILL_SKELETON));
    expect(p?.nixl?.path).toBe('prefill-held');
    const params = kvParamsOf(d?.body ?? Buffer.alloc(0));
    expect(params).toMatchObject({
      do_remote_prefill: true,
      remote_engine_id: prefill.engineId,
      remote_request_id: `cmpl-${p?.requestId}-0`,
      remote_host: 'localhost',
    });
    expect(d?.nixl).toEqual({
      path: 'decode-read',
      remoteRequestId: `cmpl-${p?.requestId}-0`,
      blockIds: p?.nixl?.blockIds,
    });
    expect(p?.completedAt).toBeLessThanOrEqual(d?.receivedAt ?? 0);
    expect(recomputeLines()).toEqual([]);
    expect(await metricValue(router, 'pd_router_nixl_remote_host_rewrites_total')).toBe(0);
  });

  it("streams a chat completion with the decode's text/event-stream content type; the prefill did not stream", async () => {
    const res = await post(
      router,
      '/v1/chat/completions',
      chatBody({ stream: true, stream_options: { include_usage: true } }),
    );
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(res.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const prefillBody = JSON.parse(prefill.received[0]?.body.toString('utf8') ?? '{}') as Record<
      string,
      unknown
    >;
    expect(prefillBody['stream']).toBe(false);
    expect(prefillBody['stream_options']).toBeUndefined();
    expect(decode.received[0]?.nixl?.path).toBe('decode-read');
  });

  it('a null kv_transfer_params (first token was EOS): the decode recomputes, counted and logged at warn', async () => {
    await prefill.setFaults([{ kind: 'nixl-no-params' }]);
    const before = await metricValue(router, 'pd_router_nixl_recomputes_total{reason="null_params"}');
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(kvParamsOf(decode.received[0]?.body ?? Buffer.alloc(0))).toBeUndefined();
    expect(decode.received[0]?.nixl).toMatchObject({ path: 'decode-recompute', reason: 'missing_params' });
    expect(await metricValue(router, 'pd_router_nixl_recomputes_total{reason="null_params"}')).toBe(
      before + 1,
    );
    expect(recomputeLines()).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ reason: 'null_params', requestId: prefill.received[0]?.requestId }),
      }),
    ]);
  });

  it('invalid params (no remote_engine_id): recompute by default, 502 PD_ERR_KV_PARAMS_INVALID with fail', async () => {
    await prefill.setFaults([{ kind: 'nixl-bad-params' }]);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(kvParamsOf(decode.received[0]?.body ?? Buffer.alloc(0))).toBeUndefined();
    expect(decode.received[0]?.nixl?.path).toBe('decode-recompute');
    expect(recomputeLines()[0]?.fields['reason']).toBe('invalid_params');

    const strict = await startRouter(
      nixlConfig({ nixl: { onMissingParams: 'fail', rewriteRemoteHost: true } }),
    );
    extra.push(strict);
    await decode.reset();
    const failed = await post(strict, '/v1/completions', completionsBody());
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.text)).toMatchObject({
      error: { code: 'PD_ERR_KV_PARAMS_INVALID', type: 'upstream_error' },
    });
    expect(decode.received).toHaveLength(0);
  });

  it('null params recompute even with --nixl-on-missing-params fail', async () => {
    const strict = await startRouter(
      nixlConfig({ nixl: { onMissingParams: 'fail', rewriteRemoteHost: true } }),
    );
    extra.push(strict);
    await prefill.setFaults([{ kind: 'nixl-no-params' }]);
    const res = await post(strict, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(decode.received[0]?.nixl?.path).toBe('decode-recompute');
  });
});

describe('NIXL remote_host rewrite against mock-vllm', () => {
  // Every test address is loopback, so a connector that calls only `localhost` local stands in for
  // a prefill on another machine whose vLLM announces the default side-channel host.
  const remoteLooking = (host: string) => host === 'localhost';

  it.each([
    [
      "rewrites localhost to the prefill's host; the decode still reads the blocks there",
      true,
      '127.0.0.1',
      1,
    ],
    ['leaves remote_host as the prefill answered when the rewrite is off', false, 'localhost', 0],
  ] as const)('%s', async (_name, rewriteRemoteHost, host, rewrites) => {
    const connector = createNixlConnector({
      onMissingParams: 'recompute',
      rewriteRemoteHost,
      isLocalHost: remoteLooking,
    });
    const r = await startRouter(nixlConfig(), { connector });
    extra.push(r);
    const res = await post(r, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(kvParamsOf(decode.received[0]?.body ?? Buffer.alloc(0))?.['remote_host']).toBe(host);
    expect(decode.received[0]?.nixl?.path).toBe('decode-read');
    expect(await metricValue(r, 'pd_router_nixl_remote_host_rewrites_total')).toBe(rewrites);
  });
});

describe('NIXL batched requests', () => {
  it.each([
    ['/v1/completions', completionsBody({ n: 2 }), 'n'],
    ['/v1/chat/completions', chatBody({ n: 3 }), 'n'],
    ['/v1/completions', completionsBody({ prompt: ['a', 'b'] }), 'prompt'],
    [
      '/v1/completions',
      completionsBody({
        prompt: [
          [1, 2],
          [3, 4],
        ],
      }),
      'prompt',
    ],
  ])('%s %s → 400 PD_ERR_NIXL_BATCH_UNSUPPORTED, nothing sent upstream', async (path, body, param) => {
    const res = await post(router, path, body);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({
      error: { code: 'PD_ERR_NIXL_BATCH_UNSUPPORTED', type: 'invalid_request_error', param },
    });
    expect(prefill.received).toHaveLength(0);
    expect(decode.received).toHaveLength(0);
  });

  it('a single prompt given as a list, or as token ids, is served', async () => {
    for (const prompt of [['one prompt in a list'], [1, 2, 3, 4]]) {
      const res = await post(router, '/v1/completions', completionsBody({ prompt }));
      expect(res.status, JSON.stringify(prompt)).toBe(200);
    }
  });
});
