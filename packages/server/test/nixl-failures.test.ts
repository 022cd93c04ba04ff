import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createNixlConnector } from '../src/connectors/nixl.js';
import {
  e2eKit,
  type FakeHandler,
  type FakeWorker,
  jsonAnswer,
  REFUSED_URL,
  type Router,
  sleep,
  type testConfig,
} from './helpers.js';
import { mockVllmWorkersForFile } from './mock-vllm-pair.js';
import { completionsBody, errorOf, kvParamsOf, metricValue, post } from './nixl-helpers.js';

// Every failure row of the NIXL flow: what the client gets, and that no decode is sent when the
// prefill leg did not give one a reason to run.
const mocks = mockVllmWorkersForFile({
  prefill: { kvConnector: 'nixl' },
  decode: { kvConnector: 'nixl', nixlReadTimeoutMs: 3_000 },
});
const kit = e2eKit();

async function routerFor(
  prefillSpec: string,
  overrides: Parameters<typeof testConfig>[0] = {},
  connector?: ReturnType<typeof createNixlConnector>,
): Promise<Router> {
  return kit.router(
    {
      kvConnector: 'nixl',
      prefill: [prefillSpec],
      decode: [mocks.decode.workerSpec],
      prefillTimeoutMs: 5_000,
      decodeTtftTimeoutMs: 10_000,
      ...overrides,
    },
    connector === undefined ? {} : { connector },
  );
}

const fakePrefill = (handler: FakeHandler): Promise<FakeWorker> => kit.worker(handler);

describe('NIXL prefill failures: an honest error, and no decode', () => {
  it('a prefill 4xx is relayed with its status and message (PD_ERR_PREFILL_REJECTED)', async () => {
    await mocks.prefill.setFaults([{ kind: 'status', status: 400, message: 'prompt too long' }]);
    const router = await routerFor(mocks.prefill.workerSpec);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(400);
    expect(errorOf(res.text)).toMatchObject({ code: 'PD_ERR_PREFILL_REJECTED', message: 'prompt too long' });
    expect(mocks.decode.received).toHaveLength(0);
  });

  it('a prefill 5xx is a 502 PD_ERR_PREFILL_UPSTREAM_STATUS', async () => {
    await mocks.prefill.setFaults([{ kind: 'status', status: 500 }]);
    const router = await routerFor(mocks.prefill.workerSpec);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(502);
    expect(errorOf(res.text).code).toBe('PD_ERR_PREFILL_UPSTREAM_STATUS');
    expect(mocks.decode.received).toHaveLength(0);
  });

  it('a refused connection is a 502 PD_ERR_PREFILL_UNAVAILABLE', async () => {
    const router = await routerFor(REFUSED_URL);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(502);
    expect(errorOf(res.text).code).toBe('PD_ERR_PREFILL_UNAVAILABLE');
    expect(mocks.decode.received).toHaveLength(0);
  });

  it('a prefill that does not answer within --prefill-timeout-ms is a 504 PD_ERR_PREFILL_TIMEOUT', async () => {
    await mocks.prefill.setFaults([{ kind: 'hang' }]);
    const router = await routerFor(mocks.prefill.workerSpec, { prefillTimeoutMs: 300 });
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(504);
    expect(errorOf(res.text).code).toBe('PD_ERR_PREFILL_TIMEOUT');
    expect(mocks.decode.received).toHaveLength(0);
  });

  it('a 2xx answer that is not JSON: with fail, a 502 PD_ERR_PREFILL_BAD_ANSWER and no decode', async () => {
    const fake = await fakePrefill((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    });
    const router = await routerFor(fake.url, { nixl: { onMissingParams: 'fail', rewriteRemoteHost: true } });
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(502);
    expect(errorOf(res.text)).toMatchObject({ code: 'PD_ERR_PREFILL_BAD_ANSWER', type: 'upstream_error' });
    expect(mocks.decode.received).toHaveLength(0);
    const series = `pd_router_upstream_errors_total{role="prefill",worker="${fake.url}",kind="bad_response"}`;
    expect(await metricValue(router, series)).toBe(1);
  });

  it('a 2xx answer that is not JSON: by default the decode recomputes, counted twice (bad_response, bad_answer)', async () => {
    const fake = await fakePrefill((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    });
    const router = await routerFor(fake.url);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(200);
    expect(mocks.decode.received).toHaveLength(1);
    expect(mocks.decode.received[0]?.body.toString()).not.toContain('kv_transfer_params');
    const series = `pd_router_upstream_errors_total{role="prefill",worker="${fake.url}",kind="bad_response"}`;
    expect(await metricValue(router, series)).toBe(1);
    expect(await metricValue(router, 'pd_router_nixl_recomputes_total{reason="bad_answer"}')).toBe(1);
  });

  it('an answer beyond the size limit is a 502 PD_ERR_PREFILL_BAD_ANSWER (the read is cut short)', async () => {
    const fake = await fakePrefill(
      jsonAnswer({ choices: [{ text: 'x'.repeat(10_000) }], kv_transfer_params: null }),
    );
    const connector = {
      ...createNixlConnector({ onMissingParams: 'recompute', rewriteRemoteHost: true }),
      prefillAnswerLimitBytes: 1_000,
    };
    const router = await routerFor(fake.url, {}, connector);
    const res = await post(router, '/v1/completions', completionsBody());
    expect(res.status).toBe(502);
    expect(errorOf(res.text)).toMatchObject({
      code: 'PD_ERR_PREFILL_BAD_ANSWER',
      message: 'prefill worker #1 answered more than 1000 bytes',
    });
    expect(mocks.decode.received).toHaveLength(0);
  });
});

describe('NIXL answers without kv_transfer_params: recompute (default) or fail', () => {
  const noKey = jsonAnswer({ id: 'cmpl-x', choices: [{ text: ' a', finish_reason: 'length' }] });

  it('recompute: the decode gets the client body and recomputes; the reason is counted', async () => {
    const fake = await fakePrefill(noKey);
    const router = await routerFor(fake.url);
    const body = completionsBody({ stream: true });
    const res = await post(router, '/v1/completions', body);
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/event-stream/);
    expect(mocks.decode.received[0]?.body.toString('utf8')).toBe(
      '{"model": "mock-model", "prompt": "The quick brown fox jumps over the lazy dog while the router hands its KV over. ", "max_tokens": 3, "stream": true}',
    );
    expect(mocks.decode.received[0]?.nixl).toMatchObject({
      path: 'decode-recompute',
      reason: 'missing_params',
    });
    expect(await metricValue(router, 'pd_router_nixl_recomputes_total{reason="missing_params"}')).toBe(1);
  });

  it('fail: 502 PD_ERR_KV_PARAMS_MISSING for no key or an empty object, and no decode', async () => {
    const router = await routerFor(mocks.prefill.workerSpec);
    for (const answer of [noKey, jsonAnswer({ kv_transfer_params: {} })]) {
      const fake = await fakePrefill(answer);
      const strict = await routerFor(fake.url, {
        nixl: { onMissingParams: 'fail', rewriteRemoteHost: true },
      });
      const res = await post(strict, '/v1/completions', completionsBody());
      expect(res.status).toBe(502);
      expect(errorOf(res.text).code).toBe('PD_ERR_KV_PARAMS_MISSING');
    }
    expect(mocks.decode.received).toHaveLength(0);
    // The default router on a healthy prefill is unaffected.
    expect((await post(router, '/v1/completions', completionsBody())).status).toBe(200);
    expect(kvParamsOf(mocks.decode.received[0]?.body ?? Buffer.alloc(0))?.['do_remote_prefill']).toBe(true);
  });
});

describe('NIXL client abort', () => {
  it('a client that leaves during the prefill gets no decode sent for it', async () => {
    await mocks.prefill.setFaults([{ kind: 'slow-headers', delayMs: 3_000 }]);
    const router = await routerFor(mocks.prefill.workerSpec);
    // Leaves once the prefill has the request (a fixed delay could end before it even got there).
    const leave = new AbortController();
    const pending = request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: completionsBody(),
      signal: leave.signal,
    });
    pending.catch(() => undefined);
    for (let i = 0; i < 300 && mocks.prefill.received.length === 0; i++) await sleep(50);
    expect(mocks.prefill.received).toHaveLength(1);
    leave.abort();
    await expect(pending).rejects.toThrow();
    // Counted when the router sees the client leave (before or during the prefill call, which it aborts).
    for (let i = 0; i < 200; i++) {
      if ((await metricValue(router, 'pd_router_client_aborts_total{phase="prefill"}')) === 1) break;
      await sleep(50);
    }
    expect(await metricValue(router, 'pd_router_client_aborts_total{phase="prefill"}')).toBe(1);
    // Past the prefill's own delay: had the router gone on, the decode would have been sent by now.
    await sleep(3_500);
    expect(mocks.decode.received).toHaveLength(0);
  });
});
