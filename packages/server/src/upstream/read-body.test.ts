import { Readable } from 'node:stream';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeWhole, readBody } from './read-body.js';

describe('readBody', () => {
  it('reads a body, keeping at most `limit` bytes, and decodes it', async () => {
    expect(
      (await readBody(Readable.from([Buffer.from('abc'), Buffer.from('def')]), undefined, 4)).toString(),
    ).toBe('abcd');
    const gz = gzipSync('{"error": {"message": "x"}}');
    expect(
      (await readBody(Readable.from([gz.subarray(0, 5), gz.subarray(5)]), 'gzip', 1_000)).toString(),
    ).toBe('{"error": {"message": "x"}}');
  });
});

describe('decodeWhole', () => {
  it('handles gzip, raw deflate, identity and falls back to the raw bytes when decoding fails', () => {
    expect(decodeWhole(gzipSync('hi'), 'gzip', 100).toString()).toBe('hi');
    expect(decodeWhole(deflateRawSync('hi'), 'deflate', 100).toString()).toBe('hi');
    expect(decodeWhole(Buffer.from('hi'), 'identity', 100).toString()).toBe('hi');
    expect(decodeWhole(Buffer.from('not gzip'), 'gzip', 100).toString()).toBe('not gzip');
    expect(decodeWhole(gzipSync('x'.repeat(1_000)), 'gzip', Number.POSITIVE_INFINITY).length).toBe(1_000);
  });
});
