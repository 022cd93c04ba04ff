import { Buffer } from 'node:buffer';
import type { HeaderPair } from './types.js';

/** A captured HTTP/1.1 message split into its parts; the body keeps its exact bytes. */
export interface HttpMessage {
  readonly startLine: string;
  readonly headers: readonly HeaderPair[];
  readonly body: Uint8Array;
}

/** Strips HTTP optional whitespace (SP / HTAB) as node's parser does to header values. */
export function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Parses the raw bytes of a captured request or response. Header bytes are read as latin1 so that
 * no byte is lost; the body is a view of the input, not a copy.
 * Returns undefined when there is no blank line ending the head or a header line has no colon.
 */
export function parseHttpMessage(bytes: Uint8Array): HttpMessage | undefined {
  const end = asBuffer(bytes).indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return undefined;
  const lines = bytesToLatin1(bytes.subarray(0, end)).split('\r\n');
  const startLine = lines[0] ?? '';
  const headers: HeaderPair[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers.push([line.slice(0, colon), trimOws(line.slice(colon + 1))]);
  }
  return { startLine, headers, body: bytes.subarray(end + 4) };
}

/** node's flat `rawHeaders` (name, value, ...) as pairs, values trimmed like a captured file's. */
export function headerPairs(rawHeaders: readonly string[]): HeaderPair[] {
  const pairs: HeaderPair[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    pairs.push([rawHeaders[i] ?? '', trimOws(rawHeaders[i + 1] ?? '')]);
  }
  return pairs;
}

/**
 * Bytes as a string with one char per byte: a lossless key for maps and for `{uuid}` edits.
 * (Buffer's latin1 is ISO-8859-1; TextDecoder('latin1') is windows-1252 and would remap 0x80-0x9f.)
 */
export function bytesToLatin1(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('latin1');
}

/** A Buffer view of the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function latin1ToBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}
