import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrefixTree } from './prefix-tree.js';

describe('PrefixTree', () => {
  it('matches the longest inserted prefix, across split edges', () => {
    const tree = new PrefixTree(10_000);
    expect(tree.matchLength('hello')).toBe(0);
    tree.insert('hello world');
    expect(tree.matchLength('hello world')).toBe(11);
    expect(tree.matchLength('hello there')).toBe(6);
    expect(tree.matchLength('help')).toBe(3);
    tree.insert('hello there');
    expect(tree.matchLength('hello there!')).toBe(11);
    expect(tree.matchLength('hello world')).toBe(11);
    expect(tree.matchLength('x')).toBe(0);
  });

  it('compares long labels correctly (binary search path) and non-ASCII text', () => {
    const tree = new PrefixTree(1_000_000);
    const base = 'système: '.repeat(1000);
    tree.insert(`${base}A${'z'.repeat(500)}`);
    expect(tree.matchLength(`${base}B`)).toBe(base.length);
    expect(tree.matchLength(`${base}A${'z'.repeat(300)}y`)).toBe(base.length + 301);
    tree.insert('😀 emoji');
    expect(tree.matchLength('😀 emojis')).toBe('😀 emoji'.length);
  });

  it('counts each stored character once', () => {
    const tree = new PrefixTree(10_000);
    tree.insert('abcdef');
    expect(tree.size).toBe(6);
    tree.insert('abcxyz'); // shares "abc"
    expect(tree.size).toBe(9);
    tree.insert('abc'); // already there
    expect(tree.size).toBe(9);
    tree.insert('');
    expect(tree.size).toBe(9);
  });

  it('never holds more than maxSize characters and evicts the least recently used first', () => {
    const tree = new PrefixTree(1000);
    for (let i = 0; i < 500; i++) {
      tree.insert(`prompt ${i} ${'x'.repeat(i % 50)}`);
      tree.insert('system prompt that stays hot');
      expect(tree.size).toBeLessThanOrEqual(1000);
    }
    expect(tree.matchLength('system prompt that stays hot')).toBe(28);
    expect(tree.matchLength('prompt 499 ')).toBe(11);
    expect(tree.matchLength('prompt 3 ')).toBeLessThan(9);
  });

  it('keeps the head of a prompt longer than the whole budget', () => {
    const tree = new PrefixTree(100);
    tree.insert('a'.repeat(50) + 'b'.repeat(100));
    expect(tree.size).toBeLessThanOrEqual(100);
    expect(tree.matchLength('a'.repeat(50))).toBe(50);
  });

  it('rejects a non-positive size', () => {
    expect(() => new PrefixTree(0)).toThrow(RangeError);
  });
});

describe('PrefixTree (properties)', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é', '😀'), maxLength: 40 });
  const common = (a: string, b: string) => {
    let i = 0;
    while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
    return i;
  };

  it('matches as much as the best inserted string shares with the query, while nothing is evicted', () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 30 }), text, (inserted, query) => {
        const tree = new PrefixTree(1_000_000);
        for (const s of inserted) tree.insert(s);
        expect(tree.matchLength(query)).toBe(Math.max(0, ...inserted.map((s) => common(s, query))));
      }),
    );
  });

  it('stays within its bound whatever is inserted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.array(text, { maxLength: 60 }), (max, inserted) => {
        const tree = new PrefixTree(max);
        for (const s of inserted) {
          tree.insert(s);
          expect(tree.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });
});
