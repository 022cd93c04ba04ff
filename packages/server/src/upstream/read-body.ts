import type { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { contentCodings } from '../stream/decompress.js';

/**
 * Reads at most `limit` bytes of a body (more is read and dropped, so the connection stays
 * reusable) and decodes its Content-Encoding. For small answers only: error bodies, /v1/models.
 */
export async function readBody(
  body: Readable,
  contentEncoding: string | undefined,
  limit: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size < limit) {
      chunks.push(size + buf.length > limit ? buf.subarray(0, limit - size) : buf);
      size += buf.length;
    }
  }
  const raw = Buffer.concat(chunks);
  return decodeWhole(raw, contentEncoding, limit);
}

/** A header's value as one string (undici gives repeated headers as a list). */
export function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Decodes a whole (small) body by its Content-Encoding, output bounded by `limit`; on a decoding
 * failure returns the raw bytes (these bodies only feed messages and small answers).
 */
export function decodeWhole(raw: Buffer, contentEncoding: string | undefined, limit: number): Buffer {
  const tokens = contentCodings(contentEncoding);
  if (tokens.length === 0 || raw.length === 0) return raw;
  const options = Number.isFinite(limit) ? { maxOutputLength: limit } : {};
  let out = raw;
  try {
    for (let i = tokens.length - 1; i >= 0; i--) {
      const token = tokens[i];
      if (token === 'gzip' || token === 'x-gzip') out = gunzipSync(out, options);
      else if (token === 'deflate')
        out = (out[0] ?? 0) % 16 === 8 ? inflateSync(out, options) : inflateRawSync(out, options);
      else if (token === 'br') out = brotliDecompressSync(out, options);
    }
  } catch {
    return raw;
  }
  return out;
}
