import { describe, expect, it } from 'vitest';
import { PrefixCache } from './prefix-cache.js';
import { blockHashes, countWords } from './tokenize.js';

describe('tokenization', () => {
  it('whitespace-separated words are tokens', () => {
    expect(countWords('  a b\n\tc  ')).toBe(3);
    expect(countWords('a\u00a0b\u3000c')).toBe(3);
    expect(countWords('')).toBe(0);
    expect(countWords('   ')).toBe(0);
  });

  it('hashes words, not the whitespace between them', () => {
    expect(blockHashes('a  b\n c d', 2)).toEqual(blockHashes('a b c d', 2));
    expect(blockHashes('a b c', 2)).toHaveLength(1);
  });

  it('block hashes chain: a shared prefix shares hashes, a change changes every later one', () => {
    const a = blockHashes('1 2 3 4 5 6 7 8 9', 2);
    const b = blockHashes('1 2 3 4 X 6 7 8', 2);
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(4);
    expect(b.slice(0, 2)).toEqual(a.slice(0, 2));
    expect(b[2]).not.toBe(a[2]);
    expect(b[3]).not.toBe(a[3]);
    // Same block content after a different prefix: a different hash.
    expect(blockHashes('9 9 1 2', 2)[1]).not.toBe(a[0]);
  });
});

describe('PrefixCache', () => {
  it('reuses registered blocks and counts held blocks as used, evictable ones as free', () => {
    const cache = new PrefixCache(10);
    const hashes = [1, 2, 3];
    const lease = cache.allocate(hashes, cache.matchBlocks(hashes), 4);
    expect(lease).toBeDefined();
    expect(cache.used).toBe(4);
    cache.register(lease!, hashes, 0);
    expect(cache.matchBlocks(hashes)).toBe(3);
    cache.release(lease!);
    expect(cache.used).toBe(0);
    expect(cache.free).toBe(10);
    expect(cache.matchBlocks([1, 2, 9])).toBe(2);
    const again = cache.allocate(hashes, 3, 1);
    expect(cache.used).toBe(4);
    cache.release(again!);
  });

  it('refuses an allocation larger than the free blocks and takes nothing', () => {
    const cache = new PrefixCache(4);
    const held = cache.allocate([], 0, 3);
    expect(cache.allocate([], 0, 2)).toBeUndefined();
    expect(cache.used).toBe(3);
    cache.release(held!);
  });

  it('evicts least-recently-freed blocks first, a request tail before its head', () => {
    const cache = new PrefixCache(4);
    const a = cache.allocate([1, 2], 0, 2)!;
    cache.register(a, [1, 2], 0);
    cache.release(a); // frees 2 then 1: 2 is evicted first
    const b = cache.allocate([3], 0, 1)!;
    cache.register(b, [3], 0);
    cache.release(b);
    // 4 blocks: 1 never-used + evictable [2, 1, 3]. Taking 3 evicts 2 and 1, keeps 3.
    const c = cache.allocate([], 0, 3)!;
    expect(cache.matchBlocks([1])).toBe(0);
    expect(cache.matchBlocks([3])).toBe(1);
    cache.release(c);
  });
});
