import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { PolicyName } from '../src/config/types.js';
import {
  availableUrls,
  discoveryAddress,
  HEALTH_OFF,
  Pinger,
  startDynamicRouter,
} from './dynamic-helpers.js';
import { closeAfterEach, type Router, testConfig, waitFor } from './helpers.js';

// Well above an event-loop stall on a loaded machine, so that a worker expires only when silenced.
const TTL_MS = 2_000;
const PING_MS = 100;

const open = closeAfterEach();

interface Cluster {
  readonly router: Router;
  /** Registers itself (mock-vllm's own heartbeat). */
  readonly d1: MockVllm;
  /** Registered by `register()`: the test makes it fall silent and come back at the same address. */
  readonly d2: MockVllm;
  register(): void;
  silence(): Promise<void>;
}

/**
 * A router whose pools are all discovered over real ZMQ: one prefill, two decodes, the decode pool
 * under `decodePolicy`. d2 keeps serving while its heartbeat stops, as an instance behind a
 * network partition would, so it can expire and re-register at exactly the same address.
 */
async function cluster(decodePolicy: PolicyName): Promise<Cluster> {
  const router = await startDynamicRouter(
    testConfig({
      decodePolicy,
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: [] },
      health: HEALTH_OFF,
    }),
  );
  open.push(router);
  const proxy = discoveryAddress(router);
  const registering = { proxyAddress: proxy, registerIntervalMs: PING_MS, kvWaitTimeoutMs: 5_000 };
  const [p, d1, d2] = await Promise.all([
    createMockVllm({ role: 'prefill', ...registering }),
    createMockVllm({ role: 'decode', ...registering }),
    createMockVllm({ role: 'decode', kvWaitTimeoutMs: 5_000 }),
  ]);
  open.push(p, d1, d2);
  await waitFor(() => availableUrls(router, 'decode').length === 1, 10_000, 'd1 to register');
  let pinger: Pinger | undefined;
  const register = (): void => {
    pinger = new Pinger(
      proxy,
      { type: 'D', http_address: d2.url.slice('http://'.length), zmq_address: d2.kvAddress },
      PING_MS,
      d2.kvAddress,
    );
    open.push(pinger);
  };
  register();
  await waitFor(
    () => availableUrls(router, 'prefill').length === 1 && availableUrls(router, 'decode').length === 2,
    10_000,
    'the prefill and d2 to register',
  );
  const silence = async (): Promise<void> => {
    await pinger?.close();
    await waitFor(() => availableUrls(router, 'decode').join() === d1.url, TTL_MS + 5_000, 'd2 to expire');
  };
  return { router, d1, d2, register, silence };
}

/** Sends one request and says which decode served it. */
async function servedBy(
  c: Cluster,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<'d1' | 'd2'> {
  const d1Before = c.d1.received.length;
  const d2Before = c.d2.received.length;
  const res = await request(`${c.router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock-model', max_tokens: 2, ...body }),
  });
  const text = await res.body.text();
  expect(res.statusCode, text).toBe(200);
  const d1Grew = c.d1.received.length - d1Before;
  expect(d1Grew + c.d2.received.length - d2Before).toBe(1);
  return d1Grew === 1 ? 'd1' : 'd2';
}

async function rejoin(c: Cluster): Promise<void> {
  c.register();
  await waitFor(() => availableUrls(c.router, 'decode').length === 2, 10_000, 'd2 to re-register');
  expect(availableUrls(c.router, 'decode')).toContain(c.d2.url);
}

describe('policies keep their state for discovered workers across expiry and re-registration', () => {
  it('consistent_hash: a key stays on its worker, moves only while it is gone, and goes back when it returns', async () => {
    const c = await cluster('consistent_hash');
    const keys = Array.from({ length: 16 }, (_, i) => `user-${i}`);
    const home = new Map<string, 'd1' | 'd2'>();
    for (const user of keys) home.set(user, await servedBy(c, { prompt: 'hello', user }));
    const onD2 = keys.filter((k) => home.get(k) === 'd2');
    // 16 keys on a 2 x 160 virtual-node ring: both workers own some (all on one: p ~ 2^-15).
    expect(onD2.length).toBeGreaterThan(0);
    expect(onD2.length).toBeLessThan(keys.length);
    // Sticky while nothing changes.
    for (const user of keys)
      expect(await servedBy(c, { prompt: 'other text', user }), user).toBe(home.get(user));

    await c.silence();
    // Only d2's keys move; d1's keys do not.
    for (const user of keys) expect(await servedBy(c, { prompt: 'hello', user }), user).toBe('d1');

    await rejoin(c);
    for (const user of keys) expect(await servedBy(c, { prompt: 'hello', user }), user).toBe(home.get(user));
    // Header keys (x-session-id) take the same path as body keys.
    const session = await servedBy(c, { prompt: 'x' }, { 'x-session-id': 'session-1' });
    expect(await servedBy(c, { prompt: 'y' }, { 'x-session-id': 'session-1' })).toBe(session);
  });

  it('cache_aware: a prefix stays with its worker and finds it again after it expired and re-registered', async () => {
    const c = await cluster('cache_aware');
    const prefixA = `System: you are a pirate. ${'Arr, the sea is wide and deep. '.repeat(20)}`;
    const prefixB = `System: you are a librarian. ${'Shh, the stacks are quiet and tall. '.repeat(20)}`;
    // Both trees are empty: A goes somewhere (a miss); B misses too and goes to the smaller tree.
    const whereA = await servedBy(c, { prompt: `${prefixA}Q1` });
    const whereB = await servedBy(c, { prompt: `${prefixB}Q1` });
    expect(whereB).not.toBe(whereA);
    const prefixOnD2 = whereA === 'd2' ? prefixA : prefixB;
    const prefixOnD1 = whereA === 'd2' ? prefixB : prefixA;
    for (let i = 2; i <= 4; i++) {
      expect(await servedBy(c, { prompt: `${prefixOnD2}Q${i}` })).toBe('d2');
      expect(await servedBy(c, { prompt: `${prefixOnD1}Q${i}` })).toBe('d1');
    }

    await c.silence();
    // The pool is d1 alone meanwhile: routing runs (and may prune stale trees) without d2. d1 also
    // learns the first half of d2's prefix, so that if d2's tree were lost, d2's prefix would now
    // be a cache hit on d1 (ratio ~0.5 > 0.3), not a miss that lands on the empty d2 anyway.
    const half = prefixOnD2.slice(0, Math.floor(prefixOnD2.length / 2));
    expect(await servedBy(c, { prompt: `${half}meanwhile, something else entirely` })).toBe('d1');
    for (let i = 5; i <= 8; i++) expect(await servedBy(c, { prompt: `${prefixOnD1}Q${i}` })).toBe('d1');

    await rejoin(c);
    // d2 comes back under the same id (decode:http://127.0.0.1:PORT): its tree is still there.
    for (let i = 9; i <= 12; i++) {
      expect(await servedBy(c, { prompt: `${prefixOnD2}Q${i}` }), `request ${i}`).toBe('d2');
      expect(await servedBy(c, { prompt: `${prefixOnD1}Q${i}` }), `request ${i}`).toBe('d1');
    }
  });
});
