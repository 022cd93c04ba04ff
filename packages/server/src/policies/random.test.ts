import { describe, expect, it } from 'vitest';
import { createRandomPolicy } from './random.js';
import { request, seededRandom, workers } from './test-helpers.js';

describe('createRandomPolicy', () => {
  it('maps the injected RNG onto the workers', () => {
    const pool = workers('decode', 4);
    const values = [0, 0.25, 0.5, 0.999_999, 1];
    const policy = createRandomPolicy(() => values.shift() as number);
    expect(Array.from({ length: 5 }, () => policy.pick(pool, request('x')).id)).toEqual([
      'D1',
      'D2',
      'D3',
      'D4',
      'D4',
    ]);
  });

  it('reaches every worker, roughly evenly', () => {
    const pool = workers('decode', 4);
    const policy = createRandomPolicy(seededRandom(42));
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const id = policy.pick(pool, request('x')).id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const worker of pool) expect(counts.get(worker.id)).toBeGreaterThan(800);
  });
});
