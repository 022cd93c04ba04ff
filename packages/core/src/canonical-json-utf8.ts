import { Buffer } from 'node:buffer';

/**
 * UTF-8 helpers for the parser. The parser scans the body as latin1 (one char per byte: fast, and
 * every JSON delimiter is ASCII) and decodes only string contents that hold bytes >= 0x80. That
 * equals decoding the whole body first: runs end at an ASCII byte (`"` or `\`), and an ASCII byte
 * never belongs to a multi-byte sequence, so a decoder's state is empty at every run boundary.
 */

// ignoreBOM keeps U+FEFF as a character, as Python's decode does. The WHATWG decoder replaces each
// maximal invalid subsequence with one U+FFFD, which is what Python's errors='replace' does too.
const REPLACING_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as a string of the same length, char i = byte i. */
export function latin1(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString('latin1');
}

/** `bytes[from:to].decode('utf-8', errors='replace')`. */
export function decodeUtf8Replace(bytes: Uint8Array, from: number, to: number): string {
  return REPLACING_UTF8.decode(bytes.subarray(from, to));
}

/**
 * Length of the valid UTF-8 sequence starting at `p` (1-4), or minus the length of the maximal
 * invalid subpart there (WHATWG / Unicode "best practice": one U+FFFD each). With `surrogates`,
 * an encoded surrogate (ED A0..BF 80..BF) is valid, as Python's `surrogatepass` makes it.
 */
export function utf8SequenceAt(bytes: Uint8Array, p: number, surrogates: boolean): number {
  const b = bytes[p] as number;
  if (b < 0x80) return 1;
  let need: number;
  let lower = 0x80;
  let upper = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) need = 1;
  else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    if (b === 0xe0) lower = 0xa0;
    else if (b === 0xed && !surrogates) upper = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    if (b === 0xf0) lower = 0x90;
    else if (b === 0xf4) upper = 0x8f;
  } else return -1;
  for (let k = 1; k <= need; k++) {
    const c = bytes[p + k];
    if (c === undefined || c < lower || c > upper) return -k;
    lower = 0x80;
    upper = 0xbf;
  }
  return need + 1;
}

/** Offset of the first byte in [from, to) that Python's strict UTF-8 + surrogatepass rejects, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array, from: number, to: number): number {
  let p = from;
  while (p < to) {
    if ((bytes[p] as number) < 0x80) {
      p++;
      continue;
    }
    const len = utf8SequenceAt(bytes, p, true);
    if (len < 0 || p + len > to) return p;
    p += len;
  }
  return -1;
}

/**
 * `bytes[from:to].decode('utf-8', 'surrogatepass')`, or undefined when Python would raise
 * UnicodeDecodeError. Surrogates encoded in UTF-8 (CESU style) pass, as lone UTF-16 units.
 */
export function decodeUtf8Strict(bytes: Uint8Array, from: number, to: number): string | undefined {
  try {
    return STRICT_UTF8.decode(bytes.subarray(from, to));
  } catch {
    // Invalid for WHATWG; it may still be valid with encoded surrogates, which Python lets through.
  }
  if (firstInvalidUtf8(bytes, from, to) !== -1) return undefined;
  const units: number[] = [];
  let p = from;
  while (p < to) {
    const b0 = bytes[p] as number;
    const len = utf8SequenceAt(bytes, p, true);
    const b1 = (bytes[p + 1] as number) & 0x3f;
    const b2 = (bytes[p + 2] as number) & 0x3f;
    if (len === 1) units.push(b0);
    else if (len === 2) units.push(((b0 & 0x1f) << 6) | b1);
    else if (len === 3) units.push(((b0 & 0x0f) << 12) | (b1 << 6) | b2);
    else
      pushCodePoint(units, ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | ((bytes[p + 3] as number) & 0x3f));
    p += len;
  }
  return unitsToString(units);
}

/** Appends a code point as UTF-16 units (astral → surrogate pair). */
export function pushCodePoint(units: number[], cp: number): void {
  if (cp > 0xffff) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
  else units.push(cp);
}

/** UTF-16 units → string, in chunks small enough for a spread call. */
export function unitsToString(units: readonly number[]): string {
  const CHUNK = 8192;
  let out = '';
  for (let i = 0; i < units.length; i += CHUNK) out += String.fromCharCode(...units.slice(i, i + CHUNK));
  return out;
}
