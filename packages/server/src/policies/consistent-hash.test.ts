import { describe, expect, it } from 'vitest';
import { createConsistentHashPolicy, VIRTUAL_NODES_PER_WORKER } from './consistent-hash.js';
import { hash32 } from './hash.js';
import { request, workers } from './test-helpers.js';
import type { WorkerView } from './types.js';

const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);

function owners(pool: readonly WorkerView[]): Map<string, string> {
  const policy = createConsistentHashPolicy();
  return new Map(keys.map((key) => [key, policy.pick(pool, request(key)).id]));
}

const rings = new WeakMap<readonly WorkerView[], { point: number; id: string }[]>();

/** The owner of `key` found by walking the full ring clockwise, skipping workers in `skip`. */
function walkRing(pool: readonly WorkerView[], key: string, skip: ReadonlySet<string>): string {
  let points = rings.get(pool);
  if (points === undefined) {
    points = pool
      .flatMap((w) =>
        Array.from({ length: VIRTUAL_NODES_PER_WORKER }, (_, v) => ({
          point: hash32(`${w.id}#${v}`),
          id: w.id,
        })),
      )
      .sort((a, b) => a.point - b.point || (a.id < b.id ? -1 : 1));
    rings.set(pool, points);
  }
  const h = hash32(key);
  const start = points.findIndex((p) => p.point >= h);
  for (let k = 0; k < points.length; k++) {
    const node = points[((start === -1 ? 0 : start) + k) % points.length] as { id: string };
    if (!skip.has(node.id)) return node.id;
  }
  throw new Error('no worker');
}

describe('createConsistentHashPolicy', () => {
  it('sends the same key to the same worker, in any policy instance', () => {
    const pool = workers('decode', 5);
    expect(owners(pool)).toEqual(owners(pool));
  });

  it('depends on the set of workers, not their order', () => {
    const pool = workers('decode', 5);
    expect(owners([...pool].reverse())).toEqual(owners(pool));
  });

  it('moves only the keys of a worker that leaves, each to the next node clockwise', () => {
    const pool = workers('decode', 5);
    const before = owners(pool);
    const after = owners(pool.filter((w) => w.id !== 'D3'));
    let moved = 0;
    for (const key of keys) {
      if (before.get(key) !== 'D3') {
        expect(after.get(key)).toBe(before.get(key));
      } else {
        moved++;
        expect(after.get(key)).toBe(walkRing(pool, key, new Set(['D3'])));
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('agrees with a walk of the ring for every key', () => {
    const pool = workers('prefill', 3);
    const got = owners(pool);
    for (const key of keys.slice(0, 500)) expect(got.get(key)).toBe(walkRing(pool, key, new Set()));
  });

  it('spreads keys roughly evenly (160 virtual nodes per worker)', () => {
    const counts = new Map<string, number>();
    for (const id of owners(workers('decode', 4)).values()) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const count of counts.values()) {
      expect(count / keys.length).toBeGreaterThan(0.15);
      expect(count / keys.length).toBeLessThan(0.35);
    }
  });

  it('gives the same answers for a new array with the same workers (cached ring) and for a one-worker pool', () => {
    const policy = createConsistentHashPolicy();
    const a = workers('decode', 3);
    const b = workers('decode', 3);
    for (const key of keys.slice(0, 200))
      expect(policy.pick(a, request(key)).id).toBe(policy.pick(b, request(key)).id);
    expect(policy.pick(workers('decode', 1), request('x')).id).toBe('D1');
  });
});

describe('hash32', () => {
  it('is a stable 32-bit unsigned hash', () => {
    expect(hash32('')).toBe(hash32(''));
    expect(hash32('session-42')).toBe(hash32('session-42'));
    expect(hash32('a')).not.toBe(hash32('b'));
    for (const text of ['', 'x', 'déjà vu', '😀']) {
      const h = hash32(text);
      expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
    }
  });
});
