import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsistentHashPolicy } from './consistent-hash.js';
import { hash32 } from './hash.js';
import { createPairSelector } from './pair-selector.js';
import { workers } from './test-helpers.js';
import type { PairChoice, RoutingRequest } from './types.js';

// hash32 is spied on: the pair selector must hash a request's key once for both pools.
vi.mock('./hash.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./hash.js')>();
  return { hash32: vi.fn(actual.hash32) };
});

const cacheAware = {
  cacheThreshold: 0.3,
  balanceAbsThreshold: 64,
  balanceRelThreshold: 1.5,
  maxTreeSize: 1 << 20,
};

function counted(key: string): { request: RoutingRequest; keyCalls: () => number } {
  let calls = 0;
  return {
    request: {
      hashKey: () => {
        calls++;
        return key;
      },
      promptText: () => key,
    },
    keyCalls: () => calls,
  };
}

function hashesOf(key: string): number {
  return vi.mocked(hash32).mock.calls.filter(([text]) => text === key).length;
}

afterEach(() => {
  vi.mocked(hash32).mockClear();
});

describe('createPairSelector with consistent_hash on both pools', () => {
  const selector = () =>
    createPairSelector({ prefillPolicy: 'consistent_hash', decodePolicy: 'consistent_hash', cacheAware });

  it('reads the key and hashes it once per request, not once per pool', () => {
    const s = selector();
    const p = workers('prefill', 3);
    const d = workers('decode', 3);
    for (let i = 0; i < 4; i++) {
      const key = `session-${i}`;
      const { request, keyCalls } = counted(key);
      s.select(p, d, request);
      expect(keyCalls()).toBe(1);
      expect(hashesOf(key)).toBe(1);
    }
  });

  it('chooses exactly what two independent consistent_hash policies choose', () => {
    const s = selector();
    const ownP = createConsistentHashPolicy();
    const ownD = createConsistentHashPolicy();
    const p = workers('prefill', 4);
    const d = workers('decode', 3);
    for (let i = 0; i < 50; i++) {
      const { request } = counted(`user-${i}`);
      const choice = s.select(p, d, request) as PairChoice;
      expect([choice.prefill.id, choice.decode.id]).toEqual([
        ownP.pick(p, request).id,
        ownD.pick(d, request).id,
      ]);
    }
  });

  it('never reuses a previous request hash for the same object after its key changed', () => {
    const s = selector();
    const p = workers('prefill', 5);
    const d = workers('decode', 5);
    let key = 'a';
    const request: RoutingRequest = { hashKey: () => key, promptText: () => key };
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      key = `key-${i}`;
      const choice = s.select(p, d, request) as PairChoice;
      seen.add(choice.prefill.id);
      expect(hashesOf(key)).toBe(1);
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
