import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { type Dispatcher, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheAwareConfig, PolicyName } from '../src/config/types.js';
import { createConsistentHashPolicy } from '../src/policies/consistent-hash.js';
import { HEALTH_OFF, startDynamicRouter } from './dynamic-helpers.js';
import { type Router, testConfig, waitFor } from './helpers.js';

// Each routing policy's choices, through the router, against real mock-vllm workers (P2P NCCL
// hand-off over ZeroMQ): which worker served a request is read from the mocks' `received` lists,
// by a marker unique to each request's prompt. (round_robin's pairing is in flow.test.ts.)

const ADMIN_KEY = 'policy-admin';
const DEFAULT_CACHE_AWARE: CacheAwareConfig = {
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  maxTreeSize: 2 ** 24,
};

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  // Router first, then its workers.
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function mocks(role: 'prefill' | 'decode', count: number): Promise<MockVllm[]> {
  const list = await Promise.all(
    Array.from({ length: count }, () => createMockVllm({ role, kvWaitTimeoutMs: 5_000 })),
  );
  open.push(...list);
  return list;
}

async function router(
  policy: PolicyName,
  ps: readonly MockVllm[],
  ds: readonly MockVllm[],
  cacheAware: CacheAwareConfig = DEFAULT_CACHE_AWARE,
): Promise<Router> {
  const r = await startDynamicRouter(
    testConfig({
      prefill: ps.map((m) => m.workerSpec),
      decode: ds.map((m) => m.workerSpec),
      policy,
      prefillPolicy: policy,
      decodePolicy: policy,
      cacheAware,
      adminApiKey: ADMIN_KEY,
      health: HEALTH_OFF,
      prefillTimeoutMs: 20_000,
      decodeTtftTimeoutMs: 20_000,
    }),
  );
  open.unshift(r);
  return r;
}

let sequence = 0;

interface Sent {
  readonly marker: string;
  readonly status: Promise<number>;
}

/** Sends a completion whose prompt ends with a unique marker; `status` settles with the answer. */
function send(r: Router, prompt: string, headers: Record<string, string> = {}, signal?: AbortSignal): Sent {
  sequence += 1;
  const marker = `#m${sequence}#`;
  const options: Dispatcher.RequestOptions = {
    path: '/v1/completions',
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock-model', prompt: `${prompt} ${marker}`, max_tokens: 1 }),
  };
  const status = request(r.url, signal === undefined ? options : { ...options, signal }).then(async (res) => {
    await res.body.text();
    return res.statusCode;
  });
  return { marker, status };
}

/** Sends and waits for a 200; returns the marker. */
async function complete(r: Router, prompt: string, headers: Record<string, string> = {}): Promise<string> {
  const sent = send(r, prompt, headers);
  expect(await sent.status).toBe(200);
  return sent.marker;
}

/** The index of the one worker whose received requests carry `marker`. */
function servedBy(workers: readonly MockVllm[], marker: string): number {
  const hits = workers.flatMap((w, i) =>
    w.received.some((r) => r.body.toString('latin1').includes(marker)) ? [i] : [],
  );
  if (hits.length !== 1) throw new Error(`${marker} reached ${hits.length} workers`);
  return hits[0] as number;
}

function pair(ps: readonly MockVllm[], ds: readonly MockVllm[], marker: string): [number, number] {
  return [servedBy(ps, marker), servedBy(ds, marker)];
}

function counts(workers: readonly MockVllm[]): number[] {
  return workers.map((w) => w.received.length);
}

async function admin(r: Router, path: string): Promise<number> {
  const res = await request(`${r.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  await res.body.text();
  return res.statusCode;
}

describe('random', () => {
  it('spreads requests over every prefill and every decode worker', async () => {
    const ps = await mocks('prefill', 2);
    const ds = await mocks('decode', 3);
    const r = await router('random', ps, ds);
    for (let i = 0; i < 60; i++) await complete(r, `random ${i}`);
    // Each worker missing from 60 uniform draws: at most 3 * (2/3)^60, about 1e-10.
    expect(counts(ps).every((n) => n > 0)).toBe(true);
    expect(counts(ds).every((n) => n > 0)).toBe(true);
    expect(counts(ps).reduce((a, b) => a + b)).toBe(60);
    expect(counts(ds).reduce((a, b) => a + b)).toBe(60);
  });
});

describe('consistent_hash', () => {
  it('pins a session to one P and one D, spreads sessions, and moves only the drained owner’s keys', async () => {
    const ps = await mocks('prefill', 3);
    const ds = await mocks('decode', 3);
    const r = await router('consistent_hash', ps, ds);
    const session = (key: string) => ({ 'x-session-id': key });

    // The same key: the same pair every time, whatever the prompt.
    const first = pair(ps, ds, await complete(r, 'hello', session('alice')));
    for (let i = 0; i < 5; i++)
      expect(pair(ps, ds, await complete(r, `other prompt ${i}`, session('alice')))).toEqual(first);

    // Different keys spread over the workers.
    const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const before = new Map<string, [number, number]>();
    for (const key of keys) before.set(key, pair(ps, ds, await complete(r, 'q', session(key))));
    expect(new Set([...before.values()].map(([p]) => p)).size).toBeGreaterThan(1);
    expect(new Set([...before.values()].map(([, d]) => d)).size).toBeGreaterThan(1);

    // Drain alice's decode: her key moves to the next worker on the ring (a ring of the others),
    // and keys owned by other decodes do not move.
    const owner = ds[first[1]] as MockVllm;
    expect(await admin(r, `/admin/workers/decode/${owner.url.slice('http://'.length)}/drain`)).toBe(200);
    const remaining = r.app.pd.registry.available('decode');
    const ring = createConsistentHashPolicy();
    const expectedUrl = (key: string) =>
      ring.pick(remaining, { hashKey: () => key, promptText: () => '' }).url;
    const moved = pair(ps, ds, await complete(r, 'hello', session('alice')));
    expect(moved[0]).toBe(first[0]);
    expect(moved[1]).not.toBe(first[1]);
    expect(ds[moved[1]]?.url).toBe(expectedUrl('alice'));
    expect(pair(ps, ds, await complete(r, 'again', session('alice')))).toEqual(moved);
    for (const key of keys) {
      const [p, d] = pair(ps, ds, await complete(r, 'q', session(key)));
      const [p0, d0] = before.get(key) as [number, number];
      expect(p).toBe(p0);
      if (d0 !== first[1]) expect(d).toBe(d0);
      else expect(ds[d]?.url).toBe(expectedUrl(key));
    }

    // Back in the pool: the key comes home.
    expect(await admin(r, `/admin/workers/decode/${owner.url.slice('http://'.length)}/undrain`)).toBe(200);
    expect(pair(ps, ds, await complete(r, 'home', session('alice')))).toEqual(first);
  });
});

describe('power_of_two', () => {
  it('sends fewer requests to a decode that is slow to answer (its requests stay in flight)', async () => {
    const ps = await mocks('prefill', 1);
    const ds = await mocks('decode', 2);
    const [slow, fast] = ds as [MockVllm, MockVllm];
    // Slow by far more than a fast answer takes even on a loaded machine: while a request waits on
    // it, the other clients get through many fast answers, whatever the machine's pace.
    await slow.setFaults({ kind: 'slow-headers', delayMs: 3_000 });
    const r = await router('power_of_two', ps, ds);
    const total = 24;
    let next = 0;
    // Three clients in parallel, each sending its next request as soon as one is answered.
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        while (next < total) {
          next += 1;
          await complete(r, `p2c ${next}`);
        }
      }),
    );
    expect(slow.received.length + fast.received.length).toBe(total);
    // Equal loads would split 12/12; the slow worker only wins ties (both idle) and a few races.
    expect(slow.received.length * 2).toBeLessThan(fast.received.length);
  });
});

describe('cache_aware', () => {
  const prefixA = `You are a helpful assistant. ${'Answer about the solar system. '.repeat(12)}`;
  const prefixB = `Translate to French. ${'The quick brown fox jumps over the lazy dog. '.repeat(10)}`;

  it('sends a repeated long shared prefix to the same P and D, another prefix elsewhere', async () => {
    const ps = await mocks('prefill', 2);
    const ds = await mocks('decode', 2);
    const r = await router('cache_aware', ps, ds);
    const a = pair(ps, ds, await complete(r, `${prefixA}Question 0?`));
    // A new prefix is a miss: it goes to the worker with the most cache room (the other one).
    const b = pair(ps, ds, await complete(r, `${prefixB}Sentence 0.`));
    expect(b[0]).not.toBe(a[0]);
    expect(b[1]).not.toBe(a[1]);
    for (let i = 1; i <= 6; i++) {
      expect(pair(ps, ds, await complete(r, `${prefixA}Question ${i}?`))).toEqual(a);
      expect(pair(ps, ds, await complete(r, `${prefixB}Sentence ${i}.`))).toEqual(b);
    }
  });

  it('overrides the cache when the cached worker is overloaded (balance thresholds)', async () => {
    const ps = await mocks('prefill', 1);
    const ds = await mocks('decode', 2);
    // Imbalanced once max - min in-flight > 2 (and max > 1.5 * min).
    const r = await router('cache_aware', ps, ds, { ...DEFAULT_CACHE_AWARE, balanceAbsThreshold: 2 });
    const home = servedBy(ds, await complete(r, `${prefixA}Question 0?`));
    const cached = ds[home] as MockVllm;
    const other = ds[1 - home] as MockVllm;

    // Three requests with the prefix hang on the cached decode: cache hits while the gap is <= 2.
    await cached.setFaults({ kind: 'hang', times: 3 });
    const stuck = new AbortController();
    const held = [1, 2, 3].map((i) => send(r, `${prefixA}Question ${i}?`, {}, stuck.signal));
    try {
      await waitFor(() => cached.received.length === 4, 20_000, 'three requests held on the cached decode');
      expect(other.received).toHaveLength(0);
      // Now 3 in flight vs 0: the same prefix goes to the idle decode instead.
      expect(servedBy(ds, await complete(r, `${prefixA}Question 4?`))).toBe(1 - home);
    } finally {
      stuck.abort();
      await Promise.all(held.map((h) => h.status.catch(() => undefined)));
    }
  });
});
