import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY_CONFIG, isRetryableStatus, retryReason } from './retry-policy.js';

describe('retryReason', () => {
  it('retries what cannot have produced anything: refused, reset or timed out before headers, 429/502/503/504', () => {
    expect(retryReason('connect', 0, false)).toBe('connect');
    expect(retryReason('reset', 0, false)).toBe('reset');
    expect(retryReason('timeout', 0, false)).toBe('timeout');
    for (const status of [429, 502, 503, 504])
      expect(retryReason('status', status, true)).toBe(`status_${status}`);
  });

  it('does not retry a failure after the headers, a malformed answer, or any other status', () => {
    expect(retryReason('timeout', 200, true)).toBeUndefined();
    expect(retryReason('reset', 200, true)).toBeUndefined();
    expect(retryReason('bad_response', 0, false)).toBeUndefined();
    for (const status of [400, 404, 413, 422, 500, 501])
      expect(retryReason('status', status, true)).toBeUndefined();
    expect(isRetryableStatus(503)).toBe(true);
    expect(isRetryableStatus(500)).toBe(false);
  });
});

describe('backoffMs', () => {
  it("grows by the multiplier from the initial backoff, up to the cap (vllm-router's defaults)", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((r) => backoffMs(DEFAULT_RETRY_CONFIG, r, mid))).toEqual([50, 75, 113, 169]);
    expect(backoffMs(DEFAULT_RETRY_CONFIG, 40, mid)).toBe(30_000);
  });

  it('jitters within the factor, and never above the cap', () => {
    expect(backoffMs(DEFAULT_RETRY_CONFIG, 1, () => 0)).toBe(40);
    expect(backoffMs(DEFAULT_RETRY_CONFIG, 1, () => 0.999_999)).toBe(60);
    expect(backoffMs(DEFAULT_RETRY_CONFIG, 40, () => 0.999_999)).toBe(30_000);
    expect(backoffMs({ ...DEFAULT_RETRY_CONFIG, jitterFactor: 0 }, 2, Math.random)).toBe(75);
  });
});
