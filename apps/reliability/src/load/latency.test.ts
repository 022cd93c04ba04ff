import { describe, expect, it } from 'vitest';
import { ErrorTally, summarize } from './latency.js';

describe('summarize', () => {
  it('gives nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(samples)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('is all zeros without samples', () => {
    expect(summarize([])).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });
});

describe('ErrorTally', () => {
  it('counts each kind', () => {
    const t = new ErrorTally();
    t.add('status 502');
    t.add('status 502');
    t.add('UND_ERR_SOCKET');
    expect(t.total).toBe(3);
    expect(t.toJSON()).toEqual({ 'status 502': 2, UND_ERR_SOCKET: 1 });
  });
});
