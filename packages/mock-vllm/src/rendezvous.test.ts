import { describe, expect, it } from 'vitest';
import { Rendezvous } from './rendezvous.js';

const never = new AbortController().signal;

describe('Rendezvous', () => {
  it('times a wait out at once past maxWaiting, and counts held arrivals that expire or are dropped', async () => {
    let now = 0;
    const expired: number[] = [];
    const table = new Rendezvous(
      { ttlMs: 100, maxHeld: 1, maxWaiting: 1, onExpire: (n) => expired.push(n), now: () => now },
      'ok',
    );
    const first = table.wait('a', 1_000, never);
    expect(await table.wait('b', 1_000, never)).toBe('timeout');
    table.arrive('a');
    expect(await first).toBe('ok');
    expect(table.waitingCount).toBe(0);
    table.arrive('x');
    table.arrive('y'); // drops x: one held at most
    expect(expired).toEqual([1]);
    now = 500;
    table.expire(); // y is past its TTL
    expect(expired).toEqual([1, 1]);
    expect(table.heldCount).toBe(0);
  });
});
