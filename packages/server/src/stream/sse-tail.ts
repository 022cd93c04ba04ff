/**
 * Whether the bytes relayed so far end an SSE event, tracked from their last four bytes only (no
 * parsing): when a stream fails, the relay must know if its error event would start a new event
 * or be glued onto the upstream's half-sent one.
 *
 * @example
 * let tail = NOTHING_SENT_TAIL;
 * tail = withTail(tail, Buffer.from('data: {"a":1}\n\ndata: {"b"'));
 * endsEvent(tail); // false: write "\n\n" before the error event
 */

const LF = 0x0a;
const CR = 0x0d;

/** The tail before any byte was relayed: at an event boundary. */
export const NOTHING_SENT_TAIL = (LF << 8) | LF;

/** `tail` (the last four bytes relayed, big-endian in a uint32) once `data` was relayed too. */
export function withTail(tail: number, data: Uint8Array): number {
  const n = data.length;
  if (n >= 4)
    return (
      (((data[n - 4] ?? 0) << 24) |
        ((data[n - 3] ?? 0) << 16) |
        ((data[n - 2] ?? 0) << 8) |
        (data[n - 1] ?? 0)) >>>
      0
    );
  let t = tail;
  for (let i = 0; i < n; i++) t = ((t << 8) | (data[i] ?? 0)) >>> 0;
  return t;
}

/**
 * Whether bytes ending with `tail` end an SSE event: their last line is empty, i.e. they end with
 * two line terminators, each CRLF, LF or CR (`\n\n`, `\r\n\r\n`, `\r\r`, `\n\r\n`...).
 */
export function endsEvent(tail: number): boolean {
  let shift = 0;
  for (let terminators = 0; terminators < 2; terminators++) {
    if (shift > 24) return false;
    const byte = (tail >>> shift) & 0xff;
    if (byte === CR) shift += 8;
    else if (byte !== LF) return false;
    else {
      shift += 8;
      // LF after CR is one terminator (CRLF), not two.
      if (shift <= 24 && ((tail >>> shift) & 0xff) === CR) shift += 8;
    }
  }
  return true;
}
