/**
 * Counts SSE events in a response body as it arrives, without building strings per event.
 *
 * The load generator shares the CPU with the router it measures, so it must stay cheap: it finds
 * line ends with Buffer#indexOf and only looks at the first bytes of each line to tell a token event
 * (`data: {...}`) from the terminator (`data: [DONE]`) and from an error event that a router sends
 * when a stream fails after its headers (`data: {"error": ...}`). Events split across chunks at
 * any byte are handled; `\n`, `\r\n` and `\r` line ends are accepted as in the SSE spec.
 */

const LF = 0x0a;
const CR = 0x0d;
/** Enough of a line to classify it: `data: {"error"` is 15 bytes. */
const PREFIX_BYTES = 16;

export type SseEventKind = 'token' | 'done' | 'error';

function classify(prefix: string): SseEventKind {
  // "data:" with an optional single space, as the SSE spec strips one leading space.
  const payload = prefix.startsWith('data: ') ? prefix.slice(6) : prefix.slice(5);
  if (payload.startsWith('[DONE]')) return 'done';
  if (payload.startsWith('{"error"')) return 'error';
  return 'token';
}

/**
 * @example
 * const c = new SseCounter();
 * c.push(Buffer.from('data: {"x":1}\n\ndata: [DO'), (kind) => console.log(kind)); // token
 * c.push(Buffer.from('NE]\n\n'), (kind) => console.log(kind));                     // done
 */
export class SseCounter {
  #prefix = '';
  #lineLength = 0;
  #afterCr = false;
  /** Kind of the event being read: the first data line decides it. */
  #eventKind: SseEventKind | undefined;

  /** Feeds one chunk; `onEvent` is called once per complete event with data. */
  push(chunk: Uint8Array, onEvent: (kind: SseEventKind) => void): void {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // vLLM frames with LF only: jump from line end to line end with the native indexOf. A CR
    // anywhere (or pending from the last chunk) takes the byte-by-byte path, which knows CRLF.
    if (this.#afterCr || buf.indexOf(CR) !== -1) {
      this.#pushBytes(buf, onEvent);
      return;
    }
    let pos = 0;
    while (pos < buf.length) {
      const lf = buf.indexOf(LF, pos);
      const end = lf === -1 ? buf.length : lf;
      if (end > pos) {
        const need = PREFIX_BYTES - Math.min(this.#lineLength, PREFIX_BYTES);
        if (need > 0) this.#prefix += buf.toString('latin1', pos, Math.min(end, pos + need));
        this.#lineLength += end - pos;
      }
      if (lf === -1) return;
      this.#endLine(onEvent);
      pos = lf + 1;
    }
  }

  #pushBytes(chunk: Buffer, onEvent: (kind: SseEventKind) => void): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF && this.#afterCr) {
        // The LF of a CRLF: the line already ended at the CR.
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = byte === CR;
      if (byte === LF || byte === CR) {
        this.#endLine(onEvent);
        continue;
      }
      if (this.#lineLength < PREFIX_BYTES) this.#prefix += String.fromCharCode(byte);
      this.#lineLength++;
    }
  }

  #endLine(onEvent: (kind: SseEventKind) => void): void {
    if (this.#lineLength === 0) {
      // A blank line dispatches the event, if it had data.
      if (this.#eventKind !== undefined) onEvent(this.#eventKind);
      this.#eventKind = undefined;
      return;
    }
    if (this.#eventKind === undefined && this.#prefix.startsWith('data:')) {
      this.#eventKind = classify(this.#prefix);
    }
    this.#prefix = '';
    this.#lineLength = 0;
  }
}
