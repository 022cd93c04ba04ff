import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Config, KvConnectorName } from '../src/config/types.js';
import { fakeClusterPerTest, postJson } from './fake-cluster.js';
import { closeAfterEach, type FakeHandler, REFUSED_SPEC, startRouter, testConfig } from './helpers.js';
import { metricValue, UUID4 } from './nixl-helpers.js';

const open = closeAfterEach();
const startCluster = fakeClusterPerTest();
const RETRY: NonNullable<Config['retry']> = {
  maxAttempts: 5,
  initialBackoffMs: 5,
  maxBackoffMs: 50,
  backoffMultiplier: 1.5,
  jitterFactor: 0.2,
};
const BODY = '{"model": "mock-model", "prompt": "San Francisco is a", "max_tokens": 3}';
const PAIR_ID = /^___prefill_addr_(.+)___decode_addr_(.+)_[0-9a-f]{32}$/;

/** The status and `PD_ERR_*` code of an error answer. */
async function failure(res: Dispatcher.ResponseData): Promise<{ status: number; code: string }> {
  return {
    status: res.statusCode,
    code: ((await res.body.json()) as { error: { code: string } }).error.code,
  };
}

/** A fake worker handler answering 503 with `body`. */
function answer503(body: string): FakeHandler {
  return (_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(body);
  };
}

async function mock(role: 'prefill' | 'decode', kvConnector: KvConnectorName): Promise<MockVllm> {
  const worker =
    role === 'prefill'
      ? await createPrefillServer({ kvConnector })
      : await createDecodeServer({ kvConnector, kvWaitTimeoutMs: 10_000 });
  open.push(worker);
  return worker;
}

/** Real mock-vllm workers plus a dead one (connection refused) listed first in `dead`'s pool. */
async function withDeadWorker(kvConnector: KvConnectorName, dead: 'prefill' | 'decode') {
  const p = await mock('prefill', kvConnector);
  const d = await mock('decode', kvConnector);
  const router = await startRouter(
    testConfig({
      kvConnector,
      prefill: dead === 'prefill' ? [REFUSED_SPEC, p.workerSpec] : [p.workerSpec],
      decode: dead === 'decode' ? [REFUSED_SPEC, d.workerSpec] : [d.workerSpec],
      retry: RETRY,
    }),
  );
  open.push(router);
  return { p, d, router };
}

describe('retries (--retry-*): a leg that failed before any byte reached the client', () => {
  it('P2P NCCL: moves requests off a dead prefill, on a new pair with a new id', async () => {
    const { p, d, router } = await withDeadWorker('p2p-nccl', 'prefill');
    for (let i = 0; i < 6; i++) {
      const res = await postJson(router, '/v1/completions', BODY);
      expect(res.statusCode).toBe(200);
      expect(((await res.body.json()) as { choices: { text: string }[] }).choices[0]?.text).toBe(
        ' tok0 tok1 tok2',
      );
    }
    expect(p.received).toHaveLength(6);
    expect(d.received).toHaveLength(6);
    // Every decode got the id of the live pair, the same its prefill got: never the dead prefill's.
    for (const [k, r] of d.received.entries()) {
      expect(r.requestId?.match(PAIR_ID)?.slice(1)).toEqual([p.kvAddress, d.kvAddress]);
      expect(p.received[k]?.requestId).toBe(r.requestId);
    }
    expect(await metricValue(router, 'pd_router_retries_total{leg="prefill",reason="connect"}')).toBe(3);
  });

  it('P2P NCCL: moves requests off a dead decode; the KV of a failed try is never followed by its decode', async () => {
    const { p, d, router } = await withDeadWorker('p2p-nccl', 'decode');
    for (let i = 0; i < 4; i++) {
      const res = await postJson(router, '/v1/completions', BODY);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    // Two of the four went first to the dead decode: their prefill ran twice, with two ids.
    expect(p.received).toHaveLength(6);
    expect(d.received).toHaveLength(4);
    const toDead = p.received.filter((r) => r.requestId?.match(PAIR_ID)?.[2] === '127.0.0.1:2');
    expect(toDead).toHaveLength(2);
    const decodeIds = new Set(d.received.map((r) => r.requestId));
    for (const r of toDead) expect(decodeIds.has(r.requestId)).toBe(false);
    for (const r of d.received)
      expect(r.requestId?.match(PAIR_ID)?.slice(1)).toEqual([p.kvAddress, d.kvAddress]);
    expect(await metricValue(router, 'pd_router_retries_total{leg="decode",reason="connect"}')).toBe(2);
  });

  it('NIXL: moves requests off a dead prefill and off a dead decode, each try with a new uuid', async () => {
    for (const dead of ['prefill', 'decode'] as const) {
      const { p, d, router } = await withDeadWorker('nixl', dead);
      for (let i = 0; i < 4; i++) {
        const res = await postJson(router, '/v1/completions', BODY);
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
      expect(d.received).toHaveLength(4);
      expect(p.received).toHaveLength(dead === 'prefill' ? 4 : 6);
      const ids = p.received.map((r) => r.requestId ?? '');
      for (const id of ids) expect(id).toMatch(UUID4);
      expect(new Set(ids).size).toBe(ids.length);
      expect(await metricValue(router, `pd_router_retries_total{leg="${dead}",reason="connect"}`)).toBe(2);
    }
  });

  it('a worker answering 503 and then 200: the client gets the 200; the 503 was never relayed', async () => {
    const { p, d, router } = await startCluster({ retry: RETRY });
    const worker = d[0];
    if (worker === undefined) throw new Error('no decode');
    let calls = 0;
    worker.handler = (_req, res) => {
      calls += 1;
      const [status, body] = calls === 1 ? [503, '{"error": "overloaded"}'] : [200, '{"ok": true}'];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    const res = await postJson(router);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('{"ok": true}');
    expect(calls).toBe(2);
    expect(p[0]?.received).toHaveLength(2);
    expect(await metricValue(router, 'pd_router_retries_total{leg="decode",reason="status_503"}')).toBe(1);
  });

  it('no retry once a decode byte reached the client: the stream ends with the error event', async () => {
    const { d, router } = await startCluster({ retry: RETRY }, { decodes: 2 });
    for (const worker of d) {
      worker.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"n": 1}\n\n');
        setTimeout(() => res.destroy(), 20);
      };
    }
    const res = await postJson(router, '/v1/completions', '{"model": "m", "prompt": "hi", "stream": true}');
    const text = await res.body.text();
    expect(text.startsWith('data: {"n": 1}\n\n')).toBe(true);
    expect(text).toContain('PD_ERR_STREAM_BROKEN');
    expect(d.reduce((n, w) => n + w.received.length, 0)).toBe(1);
    expect(await metricValue(router, 'pd_router_retries_total{leg="decode",reason="reset"}')).toBe(0);
  });

  it('is bounded per request: a pool that always answers 503 gets maxAttempts tries, then the failure', async () => {
    const { p, d, router } = await startCluster({ retry: { ...RETRY, maxAttempts: 3 } }, { prefills: 2 });
    for (const worker of p) {
      worker.handler = answer503(
        '{"error": {"message": "overloaded", "type": "ServiceUnavailable", "code": 503}}',
      );
    }
    // The last 503 is answered as a prefill's 503 is (with Retry-After: the client may come back).
    expect(await failure(await postJson(router))).toEqual({ status: 503, code: 'PD_ERR_PREFILL_OVERLOADED' });
    expect(p.reduce((n, w) => n + w.received.length, 0)).toBe(3);
    expect(d[0]?.received).toHaveLength(0);
    expect(await metricValue(router, 'pd_router_retries_total{leg="prefill",reason="status_503"}')).toBe(2);
    expect(await metricValue(router, 'pd_router_retries_exhausted_total{leg="prefill"}')).toBe(1);
  });

  it('--disable-retries (one attempt): a dead prefill fails the request as before', async () => {
    const d = await mock('decode', 'p2p-nccl');
    const router = await startRouter(
      testConfig({ prefill: [REFUSED_SPEC], decode: [d.workerSpec], retry: { ...RETRY, maxAttempts: 1 } }),
    );
    open.push(router);
    const res = await postJson(router, '/v1/completions', BODY);
    expect(await failure(res)).toEqual({ status: 502, code: 'PD_ERR_PREFILL_UNAVAILABLE' });
  });
});

describe('--request-timeout-secs: the whole request', () => {
  it('cuts a stream that outlives it, ending it with the SSE error event', async () => {
    const { d, router } = await startCluster({ requestTimeoutMs: 400 });
    const worker = d[0];
    if (worker === undefined) throw new Error('no decode');
    worker.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 100 && !res.destroyed; i++) {
        res.write(`data: {"n": ${i}}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      res.end('data: [DONE]\n\n');
    };
    const started = performance.now();
    const res = await postJson(router, '/v1/completions', '{"model": "m", "prompt": "hi", "stream": true}');
    const text = await res.body.text();
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(text.startsWith('data: {"n": 0}\n\n')).toBe(true);
    expect(text).not.toContain('[DONE]');
    const last = text.trimEnd().split('\n\n').at(-1) ?? '';
    expect(JSON.parse(last.slice('data: '.length))).toEqual({
      error: {
        message: 'the request took longer than 400 ms (--request-timeout-secs)',
        type: 'timeout_error',
        param: null,
        code: 'PD_ERR_REQUEST_TIMEOUT',
      },
    });
  });

  it('answers 504 PD_ERR_REQUEST_TIMEOUT when it runs out before the first byte, retries included', async () => {
    const { p, router } = await startCluster({
      requestTimeoutMs: 300,
      retry: { ...RETRY, initialBackoffMs: 100, maxBackoffMs: 1_000 },
    });
    const worker = p[0];
    if (worker === undefined) throw new Error('no prefill');
    worker.handler = answer503('{}');
    expect(await failure(await postJson(router))).toEqual({ status: 504, code: 'PD_ERR_REQUEST_TIMEOUT' });
  });
});
