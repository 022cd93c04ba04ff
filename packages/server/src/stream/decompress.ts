import { Transform, type TransformCallback } from 'node:stream';
import {
  createBrotliDecompress,
  createGunzip,
  createInflate,
  createInflateRaw,
  type Inflate,
  type InflateRaw,
} from 'node:zlib';

/**
 * HTTP "deflate" is meant to be zlib-wrapped (RFC 9110), but some servers send raw deflate; like
 * aiohttp and browsers, look at the first bytes and pick the right inflater.
 */
class DeflateAuto extends Transform {
  #inner: Inflate | InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#inner === undefined) {
      const b0 = chunk[0] ?? 0;
      const b1 = chunk[1] ?? 0;
      const zlibWrapped = (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0;
      const inner = zlibWrapped ? createInflate() : createInflateRaw();
      inner.on('data', (out: Buffer) => {
        if (!this.push(out)) inner.pause();
      });
      inner.on('error', (error) => this.destroy(error));
      this.#inner = inner;
    }
    this.#inner.write(chunk, callback);
  }

  override _read(size: number): void {
    this.#inner?.resume();
    super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    const inner = this.#inner;
    if (inner === undefined) {
      callback();
      return;
    }
    inner.once('end', () => callback());
    inner.end();
  }
}

function decoderFor(token: string): Transform | undefined {
  switch (token) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return new DeflateAuto();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

const NO_CODINGS: readonly string[] = [];

/**
 * The codings of a Content-Encoding value, in header order, lower-cased, without `identity` and
 * empty entries (the one parser of that header: request bodies, relayed and collected answers).
 *
 * @example contentCodings('gzip, identity') // ['gzip']
 */
export function contentCodings(value: string | undefined): readonly string[] {
  if (value === undefined || value === '' || value === 'identity') return NO_CODINGS;
  const out: string[] = [];
  for (const token of value.split(',')) {
    const coding = token.trim().toLowerCase();
    if (coding !== '' && coding !== 'identity') out.push(coding);
  }
  return out;
}

/**
 * Decoders for a Content-Encoding value, in the order to apply them (the reverse of the header's
 * order). Undefined for identity/absent; `null` when an encoding is unknown (the body is then
 * relayed still encoded, with its Content-Encoding header, rather than corrupted).
 *
 * @example
 * createDecoders('gzip') // [Gunzip]
 */
export function createDecoders(contentEncoding: string | undefined): Transform[] | undefined | null {
  const tokens = contentCodings(contentEncoding);
  if (tokens.length === 0) return undefined;
  const decoders: Transform[] = [];
  for (let i = tokens.length - 1; i >= 0; i--) {
    const decoder = decoderFor(tokens[i] ?? '');
    if (decoder === undefined) {
      for (const d of decoders) d.destroy();
      return null;
    }
    decoders.push(decoder);
  }
  return decoders;
}
