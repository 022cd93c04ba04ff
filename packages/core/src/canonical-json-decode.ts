import { latin1, pushCodePoint, unitsToString } from './canonical-json-utf8.js';

/**
 * What the parser scans. UTF-8 bodies are scanned as bytes (`scan` is latin1, index = byte
 * offset) and string contents are decoded on the way; UTF-16/32 bodies (python-bytes only) are
 * decoded up front and scanned as text.
 */
export type JsonSource =
  | {
      readonly kind: 'utf8';
      readonly scan: string;
      /** Bytes before the JSON text (a stripped UTF-8 BOM). */
      readonly start: number;
      /** Python's strict `surrogatepass` decoding (python-bytes) instead of errors='replace'. */
      readonly strict: boolean;
    }
  | {
      readonly kind: 'text';
      readonly scan: string;
      readonly start: number;
      readonly unitBytes: 2 | 4;
      /** Length of the BOM the codec stripped. */
      readonly bomBytes: number;
    };

export interface EncodingFailure {
  readonly message: string;
  readonly position: number;
}

/** `body.decode('utf-8', errors='replace')`, lazily. */
export function utf8ReplaceSource(bytes: Uint8Array): JsonSource {
  return { kind: 'utf8', scan: latin1(bytes), start: 0, strict: false };
}

type PyEncoding = 'utf-8' | 'utf-16-le' | 'utf-16-be' | 'utf-32-le' | 'utf-32-be';

/** Python's `json.detect_encoding` (Lib/json/__init__.py), BOM length included. */
function detectEncoding(b: Uint8Array): { encoding: PyEncoding; bom: number } {
  const [b0, b1, b2, b3] = b;
  // 'utf-32' / 'utf-16' / 'utf-8-sig': the codec reads the BOM for the byte order and strips it.
  if (b0 === 0x00 && b1 === 0x00 && b2 === 0xfe && b3 === 0xff) return { encoding: 'utf-32-be', bom: 4 };
  if (b0 === 0xff && b1 === 0xfe && b2 === 0x00 && b3 === 0x00) return { encoding: 'utf-32-le', bom: 4 };
  if (b0 === 0xfe && b1 === 0xff) return { encoding: 'utf-16-be', bom: 2 };
  if (b0 === 0xff && b1 === 0xfe) return { encoding: 'utf-16-le', bom: 2 };
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return { encoding: 'utf-8', bom: 3 };
  // No BOM: JSON text starts with two ASCII characters, so NUL bytes reveal the encoding.
  if (b.length >= 4) {
    if (b0 === 0) return { encoding: b1 !== 0 ? 'utf-16-be' : 'utf-32-be', bom: 0 };
    if (b1 === 0) return { encoding: b2 !== 0 || b3 !== 0 ? 'utf-16-le' : 'utf-32-le', bom: 0 };
  } else if (b.length === 2) {
    if (b0 === 0) return { encoding: 'utf-16-be', bom: 0 };
    if (b1 === 0) return { encoding: 'utf-16-le', bom: 0 };
  }
  return { encoding: 'utf-8', bom: 0 };
}

/** UTF-16 with surrogatepass: every unit passes (pairs are JavaScript's own representation). */
function decodeUtf16(bytes: Uint8Array, start: number, bigEndian: boolean): string | EncodingFailure {
  const length = bytes.length - start;
  if (length % 2 !== 0) {
    return {
      message: "'utf-16' codec can't decode the last byte: truncated data",
      position: bytes.length - 1,
    };
  }
  const units: number[] = new Array(length / 2);
  for (let k = 0, p = start; p < bytes.length; k++, p += 2) {
    const hi = bytes[p] as number;
    const lo = bytes[p + 1] as number;
    units[k] = bigEndian ? (hi << 8) | lo : (lo << 8) | hi;
  }
  return unitsToString(units);
}

/** UTF-32 with surrogatepass: surrogate code points pass, above U+10FFFF or a partial unit fails. */
function decodeUtf32(bytes: Uint8Array, start: number, bigEndian: boolean): string | EncodingFailure {
  const units: number[] = [];
  let p = start;
  for (; p + 4 <= bytes.length; p += 4) {
    const b0 = bytes[p] as number;
    const b1 = bytes[p + 1] as number;
    const b2 = bytes[p + 2] as number;
    const b3 = bytes[p + 3] as number;
    const cp = bigEndian
      ? b0 * 0x1000000 + ((b1 << 16) | (b2 << 8) | b3)
      : b3 * 0x1000000 + ((b2 << 16) | (b1 << 8) | b0);
    if (cp > 0x10ffff) {
      return { message: "'utf-32' codec can't decode bytes: code point not in range(0x110000)", position: p };
    }
    pushCodePoint(units, cp);
  }
  if (p !== bytes.length)
    return { message: "'utf-32' codec can't decode bytes: truncated data", position: p };
  return unitsToString(units);
}

/** `json.loads(bytes)`: `bytes.decode(detect_encoding(bytes), 'surrogatepass')`. */
export function pythonBytesSource(bytes: Uint8Array): JsonSource | EncodingFailure {
  const { encoding, bom } = detectEncoding(bytes);
  if (encoding === 'utf-8') return { kind: 'utf8', scan: latin1(bytes), start: bom, strict: true };
  const text =
    encoding === 'utf-16-le' || encoding === 'utf-16-be'
      ? decodeUtf16(bytes, bom, encoding === 'utf-16-be')
      : decodeUtf32(bytes, bom, encoding === 'utf-32-be');
  if (typeof text !== 'string') return text;
  return {
    kind: 'text',
    scan: text,
    start: 0,
    unitBytes: encoding.startsWith('utf-16') ? 2 : 4,
    bomBytes: bom,
  };
}

/** Byte offset in the body of index `index` of `source.scan` (for error positions). */
export function byteOffsetOf(source: JsonSource, index: number): number {
  if (source.kind === 'utf8') return index;
  if (source.unitBytes === 2) return source.bomBytes + index * 2;
  return source.bomBytes + utf32Length(source.scan.slice(0, index));
}

function utf32Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    // A high+low pair is one code point only when it came from an astral code point; UTF-32 text
    // written as two surrogate code points is rare enough to be counted as one here.
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    bytes += 4;
  }
  return bytes;
}
