import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDecoders } from './decompress.js';

async function decode(encoding: string, data: Buffer, split = 7): Promise<string> {
  const decoders = createDecoders(encoding);
  if (!decoders) throw new Error('no decoders');
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += split) chunks.push(data.subarray(i, i + split));
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out += chunk.toString();
      callback();
    },
  });
  await pipeline([Readable.from(chunks), ...decoders, sink]);
  return out;
}

const TEXT = 'data: {"tok": "hello"}\n\n'.repeat(50);

describe('createDecoders', () => {
  it('is undefined for no encoding or identity, and null for an unknown one', () => {
    expect(createDecoders(undefined)).toBeUndefined();
    expect(createDecoders('identity')).toBeUndefined();
    expect(createDecoders('zstd')).toBeNull();
    expect(createDecoders('gzip, zstd')).toBeNull();
  });

  it('decodes gzip, x-gzip, br, and both forms of deflate, whatever the chunking', async () => {
    expect(await decode('gzip', gzipSync(TEXT))).toBe(TEXT);
    expect(await decode('X-GZIP', gzipSync(TEXT), 1)).toBe(TEXT);
    expect(await decode('br', brotliCompressSync(TEXT))).toBe(TEXT);
    expect(await decode('deflate', deflateSync(TEXT))).toBe(TEXT);
    expect(await decode('deflate', deflateRawSync(TEXT), 1)).toBe(TEXT);
  });

  it('applies stacked encodings in reverse order', async () => {
    expect(await decode('deflate, gzip', gzipSync(deflateSync(TEXT)))).toBe(TEXT);
  });

  it('fails on a truncated body instead of returning part of it silently', async () => {
    const gz = gzipSync(TEXT);
    await expect(decode('gzip', gz.subarray(0, gz.length - 10))).rejects.toThrow();
  });
});
