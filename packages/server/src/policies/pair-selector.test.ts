import { describe, expect, it } from 'vitest';
import { createPairSelector } from './pair-selector.js';
import { request, seededRandom, workers } from './test-helpers.js';
import type { PairChoice, PairSelector, RoutingRequest, WorkerView } from './types.js';

const cacheAware = {
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  maxTreeSize: 1 << 20,
};

function pairs(
  selector: PairSelector,
  p: readonly WorkerView[],
  d: readonly WorkerView[],
  n: number,
): string[] {
  return Array.from({ length: n }, (_, k) => {
    const choice = selector.select(p, d, request(`k${k}`));
    if ('empty' in choice) throw new Error(`empty ${choice.empty}`);
    return `${choice.prefill.id},${choice.decode.id}`;
  });
}

describe('createPairSelector round_robin (reference proxy, reference-proxy.md row 10)', () => {
  const rr = () =>
    createPairSelector({ prefillPolicy: 'round_robin', decodePolicy: 'round_robin', cacheAware });

  it('pairs 2P2D as (P1,D1), (P2,D2), (P1,D1), (P2,D2)', () => {
    expect(pairs(rr(), workers('prefill', 2), workers('decode', 2), 4)).toEqual([
      'P1,D1',
      'P2,D2',
      'P1,D1',
      'P2,D2',
    ]);
  });

  it('pairs 2P3D as (P1,D1), (P2,D2), (P1,D3), (P2,D1), (P1,D2), (P2,D3)', () => {
    expect(pairs(rr(), workers('prefill', 2), workers('decode', 3), 6)).toEqual([
      'P1,D1',
      'P2,D2',
      'P1,D3',
      'P2,D1',
      'P1,D2',
      'P2,D3',
    ]);
  });

  it('does not advance the counter when a pool is empty, and names the empty pool (prefill first)', () => {
    const selector = rr();
    const p = workers('prefill', 2);
    const d = workers('decode', 2);
    expect(selector.select([], [], request('a'))).toEqual({ empty: 'prefill' });
    expect(selector.select(p, [], request('a'))).toEqual({ empty: 'decode' });
    expect(pairs(selector, p, d, 2)).toEqual(['P1,D1', 'P2,D2']);
  });

  it('keeps one counter when pools change size between requests (k mod the current size)', () => {
    const selector = rr();
    const first = pairs(selector, workers('prefill', 2), workers('decode', 2), 3); // k = 0, 1, 2
    const then = pairs(selector, workers('prefill', 3), workers('decode', 2), 1); // k = 3
    expect([...first, ...then]).toEqual(['P1,D1', 'P2,D2', 'P1,D1', 'P1,D2']);
  });

  it('reports why each worker was chosen', () => {
    const choice = rr().select(workers('prefill', 1), workers('decode', 1), request('a')) as PairChoice;
    expect(choice.reasons).toEqual({ prefill: 'round_robin', decode: 'round_robin' });
  });
});

describe('createPairSelector with mixed policies', () => {
  it('a round_robin pool still follows the shared per-pair counter', () => {
    const selector = createPairSelector({
      prefillPolicy: 'random',
      decodePolicy: 'round_robin',
      cacheAware,
      random: seededRandom(1),
    });
    const decodes = pairs(selector, workers('prefill', 2), workers('decode', 3), 6).map(
      (pair) => pair.split(',')[1],
    );
    expect(decodes).toEqual(['D1', 'D2', 'D3', 'D1', 'D2', 'D3']);
  });

  it('keys both pools by the same consistent-hash key', () => {
    const selector = createPairSelector({
      prefillPolicy: 'consistent_hash',
      decodePolicy: 'consistent_hash',
      cacheAware,
    });
    const p = workers('prefill', 4);
    const d = workers('decode', 4);
    const first = selector.select(p, d, request('session-7')) as PairChoice;
    for (let i = 0; i < 5; i++) {
      const again = selector.select(p, d, request('session-7')) as PairChoice;
      expect([again.prefill.id, again.decode.id]).toEqual([first.prefill.id, first.decode.id]);
    }
  });

  it('reads the key and prompt once per request even when both pools need them', () => {
    let keyCalls = 0;
    let promptCalls = 0;
    const counted: RoutingRequest = {
      hashKey: () => {
        keyCalls++;
        return 'key';
      },
      promptText: () => {
        promptCalls++;
        return 'a prompt';
      },
    };
    createPairSelector({
      prefillPolicy: 'consistent_hash',
      decodePolicy: 'consistent_hash',
      cacheAware,
    }).select(workers('prefill', 3), workers('decode', 3), counted);
    createPairSelector({ prefillPolicy: 'cache_aware', decodePolicy: 'cache_aware', cacheAware }).select(
      workers('prefill', 3),
      workers('decode', 3),
      counted,
    );
    expect([keyCalls, promptCalls]).toEqual([1, 1]);
  });
});
