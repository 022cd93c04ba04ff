import { parseWorkerUrl } from '@pd-router/core';
import { createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAddr, parseEngineIds, resolveEngineIds } from '../src/connectors/mooncake-bootstrap.js';
import { MOONCAKE_DP2_PREFILL } from './mock-vllm-pair.js';

const FAST = { retryInitialMs: 20, retryMaxMs: 80 };

describe('parseEngineIds', () => {
  const parse = (text: string) => parseEngineIds(Buffer.from(text));

  it('reads one engine id per rank, whatever the key order', () => {
    expect(parse('{"1":{"engine_id":"b"},"0":{"engine_id":"a","worker_addr":{}}}')).toEqual({
      ok: true,
      value: ['a', 'b'],
    });
  });

  it('refuses what the proxy would spin or fail on: no rank, a missing rank, no engine id, not JSON', () => {
    expect(parse('{}')).toMatchObject({ ok: false, error: expect.stringContaining('no rank yet') });
    expect(parse('{"1":{"engine_id":"b"}}')).toMatchObject({
      ok: false,
      error: expect.stringContaining('rank 0'),
    });
    expect(parse('{"0":{"engine_id":7}}').ok).toBe(false);
    expect(parse('[]').ok).toBe(false);
    expect(parse('nope').ok).toBe(false);
  });
});

describe('bootstrapAddr', () => {
  it("is the prefill's host with the bootstrap port, IPv6 bracketed", () => {
    const v4 = parseWorkerUrl('http://10.0.0.1:8100');
    const v6 = parseWorkerUrl('http://[::1]:8100', { zmqUnused: true });
    if (!v4.ok || !v6.ok) throw new Error('bad url');
    expect(bootstrapAddr(v4.value, 8998)).toBe('http://10.0.0.1:8998');
    expect(bootstrapAddr(v6.value, 9000)).toBe('http://[::1]:9000');
  });
});

describe('resolveEngineIds against a mock-vllm Mooncake prefill', () => {
  let prefill: MockVllm;
  beforeAll(async () => {
    prefill = await createPrefillServer(MOONCAKE_DP2_PREFILL);
  });
  afterAll(() => prefill.close());

  const addr = () => `http://127.0.0.1:${prefill.bootstrapPort}`;

  it('gets the engine id of every rank', async () => {
    const ids = await resolveEngineIds({
      prefillUrl: prefill.url,
      bootstrapAddr: addr(),
      signal: new AbortController().signal,
    });
    expect(ids).toEqual(['engine-P1', 'engine-P1_dp1']);
  });

  it('retries with backoff while the bootstrap server is down or lists no rank, then succeeds', async () => {
    await prefill.setFaults([
      { kind: 'mooncake-bootstrap-down', times: 2 },
      { kind: 'mooncake-bootstrap-down', mode: 'empty', times: 1 },
    ]);
    const retries: [string, number][] = [];
    const ids = await resolveEngineIds({
      prefillUrl: prefill.url,
      bootstrapAddr: addr(),
      signal: new AbortController().signal,
      ...FAST,
      onRetry: (reason, _attempt, wait) => retries.push([reason, wait]),
    });
    expect(ids).toEqual(['engine-P1', 'engine-P1_dp1']);
    expect(retries.map(([, wait]) => wait)).toEqual([20, 40, 80]);
    expect(retries[0]?.[0]).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/query failed: /);
    expect(retries[2]?.[0]).toContain('no rank yet');
  });

  it("asks /query only once the prefill's /health answers 2xx", async () => {
    await prefill.setFaults([
      { kind: 'status', status: 503, scope: 'all', times: 2 },
      { kind: 'mooncake-bootstrap-down', times: 1 },
    ]);
    const reasons: string[] = [];
    const ids = await resolveEngineIds({
      prefillUrl: prefill.url,
      bootstrapAddr: addr(),
      signal: new AbortController().signal,
      ...FAST,
      onRetry: (reason) => reasons.push(reason),
    });
    expect(ids).toEqual(['engine-P1', 'engine-P1_dp1']);
    // Two /health failures, then the one reset /query: the fault was not consumed before /health passed.
    expect(
      reasons.map((r) =>
        r
          .replace(/http:\/\/127\.0\.0\.1:\d+/, 'URL')
          .split(' ')
          .slice(0, 2)
          .join(' '),
      ),
    ).toEqual(['GET URL/health', 'GET URL/health', 'GET URL/query']);
  });

  it('stops when its signal aborts', async () => {
    const ac = new AbortController();
    const pending = resolveEngineIds({
      prefillUrl: prefill.url,
      bootstrapAddr: 'http://127.0.0.1:1',
      signal: ac.signal,
      ...FAST,
      onRetry: () => ac.abort(),
    });
    expect(await pending).toBe('aborted');
  });
});
