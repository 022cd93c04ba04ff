import { describe, expect, it } from 'vitest';
import { createRoundRobinPolicy } from './round-robin.js';
import { request, workers } from './test-helpers.js';

describe('createRoundRobinPolicy', () => {
  it('without a shared counter, cycles through the workers in order', () => {
    const rr = createRoundRobinPolicy();
    const pool = workers('decode', 3);
    expect(Array.from({ length: 7 }, () => rr.pick(pool, request('x')).id)).toEqual([
      'D1',
      'D2',
      'D3',
      'D1',
      'D2',
      'D3',
      'D1',
    ]);
  });

  it('with a shared counter, picks workers[turn mod n] and never advances it itself', () => {
    let turn = 4;
    const rr = createRoundRobinPolicy(() => turn);
    const pool = workers('prefill', 3);
    expect(rr.pick(pool, request('x')).id).toBe('P2');
    expect(rr.pick(pool, request('x')).id).toBe('P2');
    turn = 5;
    expect(rr.decide(pool, request('x'))).toEqual({ worker: pool[2], reason: 'round_robin' });
  });
});
