import { describe, expect, it } from 'vitest';
import { bucketRange, Histogram, MAX_TRACKABLE_US } from './histogram.js';

/** Exact nearest-rank percentile of a sample, the definition the histogram approximates. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe('Histogram', () => {
  it('is empty-safe', () => {
    const h = new Histogram();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBe(0);
    expect(h.mean).toBe(0);
    expect(h.min).toBe(0);
    expect(h.max).toBe(0);
  });

  it('is exact below 128 µs', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.percentile(50)).toBe(50);
    expect(h.percentile(90)).toBe(90);
    expect(h.percentile(99)).toBe(99);
    expect(h.percentile(100)).toBe(100);
    expect(h.min).toBe(1);
    expect(h.mean).toBeCloseTo(50.5, 10);
  });

  it('buckets are contiguous and non-overlapping over the whole range', () => {
    let expectedLow = 0;
    for (let i = 0; i < 1728; i++) {
      const [low, high] = bucketRange(i);
      expect(low).toBe(expectedLow);
      expect(high).toBeGreaterThanOrEqual(low);
      expectedLow = high + 1;
    }
    expect(expectedLow - 1).toBe(MAX_TRACKABLE_US);
  });

  it('stays within 1.6% of the exact percentile on a wide random sample', () => {
    // Deterministic pseudo-random log-uniform sample from 10 µs to 10 s.
    let seed = 42;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const values: number[] = [];
    const h = new Histogram();
    for (let i = 0; i < 20_000; i++) {
      const v = Math.round(10 * 10 ** (6 * next()));
      values.push(v);
      h.record(v);
    }
    values.sort((a, b) => a - b);
    for (const p of [1, 10, 50, 90, 99, 99.9]) {
      const exact = exactPercentile(values, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(1 / 64);
    }
    expect(h.max).toBe(values[values.length - 1]);
    expect(h.min).toBe(values[0]);
    expect(h.count).toBe(20_000);
  });

  it('rounds fractions, clamps negatives and huge values', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(2.6);
    h.record(1e12);
    expect(h.min).toBe(0);
    expect(h.percentile(50)).toBe(3);
    expect(h.max).toBe(MAX_TRACKABLE_US);
  });

  it('merges and round-trips through JSON', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 1000; i++) a.record(1000 + i);
    for (let i = 0; i < 1000; i++) b.record(5000 + i);
    a.merge(b);
    expect(a.count).toBe(2000);
    expect(a.min).toBe(1000);
    expect(a.max).toBe(5999);
    // Rank 500 of 2,000 is 1,499 and rank 1,500 is 5,499, each to bucket precision (1/64).
    expect(Math.abs(a.percentile(25) - 1499) / 1499).toBeLessThan(1 / 64);
    expect(Math.abs(a.percentile(75) - 5499) / 5499).toBeLessThan(1 / 64);
    const back = Histogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (const p of [0, 50, 90, 99, 100]) expect(back.percentile(p)).toBe(a.percentile(p));
    expect(back.mean).toBe(a.mean);
    expect(back.buckets()).toEqual(a.buckets());
    expect(a.buckets().reduce((s, x) => s + x.count, 0)).toBe(2000);
  });

  it('merging an empty histogram changes nothing', () => {
    const a = new Histogram();
    a.record(10);
    a.merge(new Histogram());
    expect(a.min).toBe(10);
    expect(a.count).toBe(1);
  });
});
