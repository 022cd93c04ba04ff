import { describe, expect, it } from 'vitest';
import { SenderRateLimit } from './sender-rate-limit.js';

describe('SenderRateLimit', () => {
  it('lets a burst of `rate` messages through, then `rate` a second, per sender', () => {
    const limit = new SenderRateLimit(4);
    const taken = Array.from({ length: 6 }, () => limit.take('a', 0));
    expect(taken).toEqual([true, true, true, true, false, false]);
    // Another sender has its own bucket.
    expect(limit.take('b', 0)).toBe(true);
    expect(limit.take('a', 250)).toBe(true);
    expect(limit.take('a', 250)).toBe(false);
    expect(limit.take('a', 1_250)).toBe(true);
  });

  it('tracks at most maxSenders; idle ones are forgotten to make room', () => {
    const limit = new SenderRateLimit(2, 3);
    for (const s of ['a', 'b', 'c']) expect(limit.take(s, 0)).toBe(true);
    expect(limit.take('d', 0)).toBe(false);
    expect(limit.size).toBe(3);
    // A second later every bucket has refilled: the sweep frees them all.
    expect(limit.take('d', 1_000)).toBe(true);
    expect(limit.size).toBe(1);
  });
});
