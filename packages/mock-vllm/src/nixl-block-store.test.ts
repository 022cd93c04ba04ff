import { afterEach, describe, expect, it, vi } from 'vitest';
import { NixlBlockStore } from './nixl-block-store.js';

function store(ttlMs = 1_000, maxHeld = 100) {
  const expired = { requests: 0, blocks: 0 };
  const s = new NixlBlockStore({
    engineId: 'engine-P',
    ttlMs,
    maxHeld,
    onExpire: (requests, blocks) => {
      expired.requests += requests;
      expired.blocks += blocks;
    },
  });
  return { s, expired };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('NixlBlockStore', () => {
  it('frees blocks on the first matching read only', () => {
    const { s } = store();
    const ids = s.allocate(3);
    expect(ids).toEqual([1, 2, 3]);
    s.hold('cmpl-a-0', ids);
    expect([s.heldRequests, s.heldBlocks]).toEqual([1, 3]);
    const read = { engineId: 'engine-P', requestId: 'cmpl-a-0', blockIds: ids };
    expect(s.take({ ...read, engineId: 'engine-X' })).toBe('engine-mismatch');
    expect(s.take({ ...read, blockIds: [1, 2] })).toBe('block-mismatch');
    expect(s.heldBlocks).toBe(3);
    expect(s.take(read)).toBe('ok');
    expect([s.heldRequests, s.heldBlocks]).toEqual([0, 0]);
    expect(s.take(read)).toBe('not-found');
    s.close();
  });

  it('holds nothing for an empty block list (vLLM frees at once)', () => {
    const { s } = store();
    s.hold('chatcmpl-short', []);
    expect(s.heldRequests).toBe(0);
    expect(s.take({ engineId: 'engine-P', requestId: 'chatcmpl-short', blockIds: [] })).toBe('not-found');
  });

  it('expires unread blocks after the TTL, by timer, and says so to late reads', () => {
    vi.useFakeTimers();
    const { s, expired } = store(1_000);
    s.hold('a', s.allocate(2));
    vi.advanceTimersByTime(500);
    s.hold('b', s.allocate(1));
    vi.advanceTimersByTime(600);
    expect([s.heldRequests, s.heldBlocks]).toEqual([1, 1]);
    expect(expired).toEqual({ requests: 1, blocks: 2 });
    vi.advanceTimersByTime(1_000);
    expect(s.heldRequests).toBe(0);
    expect(expired).toEqual({ requests: 2, blocks: 3 });
    expect(s.take({ engineId: 'engine-P', requestId: 'a', blockIds: [1, 2] })).toBe('expired');
    // Holding the id again makes it live again.
    s.hold('a', [9]);
    expect(s.take({ engineId: 'engine-P', requestId: 'a', blockIds: [9] })).toBe('ok');
    s.close();
  });

  it('drops the oldest past maxHeld, counted as expired; clear() counts nothing', () => {
    const { s, expired } = store(60_000, 2);
    s.hold('a', [1]);
    s.hold('b', [2, 3]);
    s.hold('c', [4]);
    expect(expired).toEqual({ requests: 1, blocks: 1 });
    expect([s.heldRequests, s.heldBlocks]).toEqual([2, 3]);
    s.clear();
    expect([s.heldRequests, s.heldBlocks]).toEqual([0, 0]);
    expect(expired).toEqual({ requests: 1, blocks: 1 });
  });
});
