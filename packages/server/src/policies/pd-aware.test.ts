import { describe, expect, it } from 'vitest';
import type { CacheAwareConfig } from '../config/types.js';
import { createCacheAwarePolicy } from './cache-aware.js';
import { createPairSelector } from './pair-selector.js';
import { createPdAwareDecodePolicy, createPdAwarePrefillPolicy, prefillWork } from './pd-aware.js';
import { CHUNK_CHARS } from './prefix-index.js';
import { request, workers } from './test-helpers.js';
import type { WorkerView } from './types.js';

const text = (tag: string, chars: number): string => `${tag} `.padEnd(chars, tag[0]);
const cacheAware: CacheAwareConfig = {
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  maxTreeSize: 1 << 20,
};

/** A pool whose in-flight counts follow the picks (nothing finishes), as the registry's would. */
function live(role: 'prefill' | 'decode', n: number): { pool: WorkerView[]; take: (w: WorkerView) => void } {
  const pool = workers(role, n).map((w) => ({ ...w }));
  const take = (w: WorkerView): void => {
    (w as { inFlight: number }).inFlight += 1;
  };
  return { pool, take };
}

describe('pd_aware prefill', () => {
  it('sends each request where the prefill work already sent and not answered is least', () => {
    const policy = createPdAwarePrefillPolicy(1 << 20);
    const pool = workers('prefill', 3);
    const big = request('a', text('a', 30_000));
    const first = policy.decide(pool, big).worker;
    // Two more requests avoid the worker holding 30k characters of unanswered work.
    const second = policy.decide(pool, request('b', text('b', 1_000))).worker;
    const third = policy.decide(pool, request('c', text('c', 1_000))).worker;
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    // Once the big one is answered, its worker is the idlest again.
    policy.release?.(first, big);
    expect(policy.decide(pool, request('d', text('d', 1_000))).worker).toBe(first);
  });

  it('prefers the worker holding the prompt prefix while that saves more work than the queue costs', () => {
    const policy = createPdAwarePrefillPolicy(1 << 20);
    const pool = workers('prefill', 2);
    const shared = text('s', 20_000);
    const firstRequest = request('x', `${shared}one`);
    const owner = policy.decide(pool, firstRequest);
    // While the first is still prefilling there, the owner is no faster than an idle worker.
    expect(policy.decide(pool, request('w', `${shared}three`)).worker).not.toBe(owner.worker);
    policy.release?.(owner.worker, firstRequest);
    const again = policy.decide(pool, request('y', `${shared}two`));
    expect(again).toEqual({ worker: owner.worker, reason: 'cache_hit' });
  });

  it("costs a prompt's attention on top of its length", () => {
    expect(prefillWork(1000, 0)).toBeGreaterThan(1000);
    expect(prefillWork(1000, 100_000)).toBeGreaterThan(prefillWork(1000, 0));
    expect(prefillWork(200_000, 0) / 200_000).toBeGreaterThan(prefillWork(2_000, 0) / 2_000);
  });
});

describe('pd_aware decode and decode-first', () => {
  it('picks the decode with the least context in flight and releases it', () => {
    const policy = createPdAwareDecodePolicy(1 << 20);
    const pool = workers('decode', 2);
    const long = request('l', text('l', 50_000));
    const d1 = policy.decide(pool, long).worker;
    expect(policy.decide(pool, request('s', text('s', 100))).worker).not.toBe(d1);
    policy.release?.(d1, long);
    expect(policy.decide(pool, request('t', text('t', 100))).worker).toBe(d1);
  });

  it('sends a short uncached prompt to the decode alone, a long one through a prefill', () => {
    const selector = createPairSelector({
      prefillPolicy: 'pd_aware',
      decodePolicy: 'pd_aware',
      cacheAware,
      decodeFirstTokens: 512,
    });
    const short = selector.select(
      workers('prefill', 2),
      workers('decode', 2),
      request('a', text('a', 2_000)),
    );
    expect(short).toMatchObject({
      decodeOnly: true,
      reasons: { prefill: 'skipped', decode: 'decode_first' },
    });
    const long = selector.select(workers('prefill', 2), workers('decode', 2), request('b', text('b', 2_100)));
    expect(long).not.toHaveProperty('decodeOnly');
    expect(long).toMatchObject({ reasons: { prefill: 'least_work', decode: 'least_load' } });
  });

  it('counts what the decode already holds: a long prompt whose prefix it has is short enough', () => {
    const policy = createPdAwareDecodePolicy(1 << 20, 2048);
    const pool = workers('decode', 1);
    const history = text('h', 40_000);
    expect(policy.decide(pool, request('1', history)).reason).toBe('least_load');
    expect(policy.decide(pool, request('2', `${history} and one more question`)).reason).toBe('decode_first');
  });

  it('never decides decode-first without a threshold (P2P NCCL, or --decode-first-tokens 0)', () => {
    const selector = createPairSelector({ prefillPolicy: 'pd_aware', decodePolicy: 'pd_aware', cacheAware });
    const choice = selector.select(workers('prefill', 1), workers('decode', 1), request('a', 'hi'));
    expect(choice).not.toHaveProperty('decodeOnly');
  });
});

describe('every prompt shares its first block (a long system prompt)', () => {
  const SYSTEM = text('system', 8 * CHUNK_CHARS);
  const prompts = Array.from({ length: 60 }, (_, i) => `${SYSTEM} question ${i}?`);

  it('cache_aware piles them all on one worker until the load imbalance passes its thresholds', () => {
    const policy = createCacheAwarePolicy(cacheAware);
    const { pool, take } = live('prefill', 4);
    const chosen = prompts.map((p, i) => {
      const { worker, reason } = policy.decide(pool, request(String(i), p));
      take(worker);
      return `${worker.id}:${reason}`;
    });
    // The match ratio is ~0.99 > 0.3 for every prompt after the first: cache_hit on the same
    // worker, 60 in flight there and none elsewhere, until max - min > 64 (never reached here).
    expect(chosen[0]).toMatch(/:cache_miss$/);
    const first = chosen[0]?.split(':')[0];
    expect(chosen.slice(1).every((c) => c === `${first}:cache_hit`)).toBe(true);
    expect(pool.map((w) => w.inFlight).sort((a, b) => b - a)).toEqual([60, 0, 0, 0]);
  });

  it('pd_aware spreads them: a shared prefix saves less than the queue behind it costs', () => {
    const policy = createPdAwarePrefillPolicy(1 << 20);
    const { pool, take } = live('prefill', 4);
    for (const [i, p] of prompts.entries()) take(policy.decide(pool, request(String(i), p)).worker);
    const counts = pool.map((w) => w.inFlight);
    expect(Math.max(...counts)).toBeLessThanOrEqual(Math.min(...counts) + 10);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
  });
});
