import { describe, expect, it } from 'vitest';
import { createPowerOfTwoPolicy } from './power-of-two.js';
import { request, seededRandom, workers } from './test-helpers.js';

function tally(inFlight: number[], picks: number, seed = 7): Map<string, number> {
  const pool = workers('decode', inFlight.length, inFlight);
  const policy = createPowerOfTwoPolicy(seededRandom(seed));
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const id = policy.pick(pool, request('x')).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('createPowerOfTwoPolicy', () => {
  it('compares two distinct workers: of two, the less loaded always wins', () => {
    expect(tally([3, 1], 200)).toEqual(new Map([['D2', 200]]));
    expect(tally([0, 9], 200)).toEqual(new Map([['D1', 200]]));
  });

  it('never picks the most loaded worker, which loses to any other candidate', () => {
    const counts = tally([0, 5, 9], 3000);
    expect(counts.get('D3')).toBeUndefined();
    // D1 is a candidate in 2 of the 3 possible pairs and wins them all.
    expect((counts.get('D1') ?? 0) / 3000).toBeGreaterThan(0.6);
  });

  it('breaks ties at random', () => {
    const counts = tally([2, 2], 1000);
    expect(counts.get('D1')).toBeGreaterThan(350);
    expect(counts.get('D2')).toBeGreaterThan(350);
  });

  it('returns the only worker of a one-worker pool', () => {
    expect(tally([5], 10)).toEqual(new Map([['D1', 10]]));
  });
});
