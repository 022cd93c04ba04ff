import { describe, expect, it } from 'vitest';
import type { CacheAwareConfig } from '../config/types.js';
import { createCacheAwarePolicy } from './cache-aware.js';
import { request, workers } from './test-helpers.js';

const config: CacheAwareConfig = {
  cacheThreshold: 0.5,
  balanceAbsThreshold: 4,
  balanceRelThreshold: 1.5,
  maxTreeSize: 100_000,
};
const SYSTEM = 'You are a helpful assistant. Answer briefly and cite sources. ';

describe('createCacheAwarePolicy', () => {
  it('sends prompts sharing a long prefix to the same worker (cache_hit)', () => {
    const policy = createCacheAwarePolicy(config);
    const pool = workers('prefill', 3);
    const first = policy.decide(pool, request('a', `${SYSTEM}What is 2+2?`));
    expect(first.reason).toBe('cache_miss');
    for (const question of ['What is 3+3?', 'Name a color.', 'Why?']) {
      expect(policy.decide(pool, request('a', `${SYSTEM}${question}`))).toEqual({
        worker: first.worker,
        reason: 'cache_hit',
      });
    }
  });

  it('spreads unrelated prompts over idle workers (smallest tree wins a miss)', () => {
    const policy = createCacheAwarePolicy(config);
    const pool = workers('prefill', 3);
    const chosen = ['alpha prompt', 'bravo prompt', 'charlie prompt'].map(
      (p) => policy.pick(pool, request(p)).id,
    );
    expect(new Set(chosen).size).toBe(3);
  });

  it('needs a match ratio strictly above the threshold', () => {
    const policy = createCacheAwarePolicy(config);
    const pool = workers('prefill', 2);
    const first = policy.pick(pool, request('x', 'abcdefgh'));
    // "abcd" + 4 new chars: ratio 0.5, not > 0.5, so a miss goes to the other (empty) tree.
    const second = policy.decide(pool, request('x', 'abcdWXYZ'));
    expect(second.reason).toBe('cache_miss');
    expect(second.worker.id).not.toBe(first.id);
  });

  it('routes to the least-loaded worker when load is imbalanced, and still learns the prompt there', () => {
    const policy = createCacheAwarePolicy(config);
    const idle = workers('prefill', 2);
    const cachedOn = policy.pick(idle, request('x', `${SYSTEM}one`)).id;
    const busy = idle.map((w) => ({ ...w, inFlight: w.id === cachedOn ? 10 : 2 })); // 10-2 > 4 and 10 > 3
    const balanced = policy.decide(busy, request('x', `${SYSTEM}two`));
    expect(balanced.reason).toBe('load_balance');
    expect(balanced.worker.id).not.toBe(cachedOn);
    // Both trees now hold SYSTEM; back to even load, the prefix still counts.
    expect(policy.decide(idle, request('x', `${SYSTEM}two, again`)).reason).toBe('cache_hit');
  });

  it('needs both thresholds to call the load imbalanced', () => {
    const policy = createCacheAwarePolicy(config);
    const idle = workers('prefill', 2);
    const cachedOn = policy.pick(idle, request('x', `${SYSTEM}one`)).id;
    const absOnly = idle.map((w) => ({ ...w, inFlight: w.id === cachedOn ? 100 : 90 })); // 10 > 4 but 100 < 135
    expect(policy.decide(absOnly, request('x', `${SYSTEM}two`))).toMatchObject({ reason: 'cache_hit' });
    const relOnly = idle.map((w) => ({ ...w, inFlight: w.id === cachedOn ? 4 : 0 })); // 4 > 0 but 4 - 0 = 4
    expect(policy.decide(relOnly, request('x', `${SYSTEM}three`))).toMatchObject({ reason: 'cache_hit' });
  });

  it('keeps every tree within maxTreeSize under a stream of distinct prompts', () => {
    const small = createCacheAwarePolicy({ ...config, maxTreeSize: 2_000 });
    const pool = workers('decode', 2);
    for (let i = 0; i < 2_000; i++) small.pick(pool, request('x', `${i} ${'lorem ipsum '.repeat(i % 20)}`));
    // Recent prompts are remembered, old ones were evicted.
    const recent = '1999 ' + 'lorem ipsum '.repeat(1999 % 20);
    expect(small.decide(pool, request('x', recent)).reason).toBe('cache_hit');
    expect(small.decide(pool, request('x', `3 ${'lorem ipsum '.repeat(3)}`)).reason).toBe('cache_miss');
  });

  it('routes empty prompts without growing any tree, rotating between idle workers', () => {
    const policy = createCacheAwarePolicy(config);
    const pool = workers('decode', 3);
    const ids = Array.from({ length: 6 }, () => policy.pick(pool, request('x', '')).id);
    expect(new Set(ids).size).toBe(3);
  });
});
