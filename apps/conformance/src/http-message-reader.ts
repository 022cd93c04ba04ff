/** One HTTP/1.1 message read off a byte stream; the body is de-chunked, the head kept as latin1 text. */
export interface StreamedMessage {
  readonly startLine: string;
  /** Header pairs in wire order and case, values trimmed of blanks. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

type State =
  | { readonly kind: 'head' }
  | { readonly kind: 'fixed'; remaining: number }
  | { readonly kind: 'chunk-size' }
  | { readonly kind: 'chunk-data'; remaining: number }
  | { readonly kind: 'trailers' }
  | { readonly kind: 'until-close' };

const CRLF = '\r\n';
const HEAD_END = '\r\n\r\n';
/** A head larger than this is not HTTP we expect from a router or a mock: fail loudly, do not buffer forever. */
const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Splits one direction of an HTTP/1.1 connection into messages, as they complete: requests (a body
 * only with Content-Length or chunked) or responses (no body for 1xx, 204 and 304; else Content-Length,
 * chunked, or until the connection closes). Used by the worker tap to see exactly what passed.
 * Throws on a malformed head; the caller drops the connection.
 */
export class HttpMessageReader {
  readonly #kind: 'request' | 'response';
  readonly #onMessage: (message: StreamedMessage) => void;
  #buffer: Buffer = Buffer.alloc(0);
  #state: State = { kind: 'head' };
  #head: Omit<StreamedMessage, 'body'> | undefined;
  #parts: Buffer[] = [];

  constructor(kind: 'request' | 'response', onMessage: (message: StreamedMessage) => void) {
    this.#kind = kind;
    this.#onMessage = onMessage;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#step()) {
      // each step consumes what it can; loop until it needs more bytes
    }
  }

  /** The peer closed: a response read until close is complete now. */
  end(): void {
    if (this.#state.kind === 'until-close') {
      this.#parts.push(this.#buffer);
      this.#buffer = Buffer.alloc(0);
      this.#finish();
    }
  }

  #step(): boolean {
    const state = this.#state;
    switch (state.kind) {
      case 'head':
        return this.#readHead();
      case 'fixed': {
        const take = Math.min(state.remaining, this.#buffer.length);
        if (take === 0 && state.remaining > 0) return false;
        this.#parts.push(this.#buffer.subarray(0, take));
        this.#buffer = this.#buffer.subarray(take);
        state.remaining -= take;
        if (state.remaining === 0) this.#finish();
        return this.#buffer.length > 0;
      }
      case 'chunk-size': {
        const eol = this.#buffer.indexOf(CRLF, 0, 'latin1');
        if (eol < 0) return false;
        const size = Number.parseInt(
          this.#buffer.subarray(0, eol).toString('latin1').split(';')[0] ?? '',
          16,
        );
        if (!Number.isInteger(size) || size < 0) throw new Error('malformed chunk size');
        this.#buffer = this.#buffer.subarray(eol + 2);
        this.#state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: size + 2 };
        return true;
      }
      case 'chunk-data': {
        // `remaining` counts the chunk's bytes plus its CRLF.
        const take = Math.min(state.remaining, this.#buffer.length);
        if (take === 0) return false;
        const dataLeft = Math.max(0, state.remaining - 2);
        this.#parts.push(this.#buffer.subarray(0, Math.min(take, dataLeft)));
        this.#buffer = this.#buffer.subarray(take);
        state.remaining -= take;
        if (state.remaining === 0) this.#state = { kind: 'chunk-size' };
        return this.#buffer.length > 0 || state.remaining === 0;
      }
      case 'trailers': {
        const eol = this.#buffer.indexOf(CRLF, 0, 'latin1');
        if (eol < 0) return false;
        this.#buffer = this.#buffer.subarray(eol + 2);
        if (eol === 0) this.#finish();
        return true;
      }
      case 'until-close':
        return false;
    }
  }

  #readHead(): boolean {
    const end = this.#buffer.indexOf(HEAD_END, 0, 'latin1');
    if (end < 0) {
      if (this.#buffer.length > MAX_HEAD_BYTES) throw new Error('HTTP head too large');
      return false;
    }
    const lines = this.#buffer.subarray(0, end).toString('latin1').split(CRLF);
    this.#buffer = this.#buffer.subarray(end + HEAD_END.length);
    const headers = lines.slice(1).map((line) => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
      return [line.slice(0, colon), line.slice(colon + 1).trim()] as const;
    });
    const startLine = lines[0] ?? '';
    this.#head = { startLine, headers };
    this.#parts = [];
    const value = (name: string) => headers.find(([k]) => k.toLowerCase() === name)?.[1];
    if (/\bchunked\b/i.test(value('transfer-encoding') ?? '')) {
      this.#state = { kind: 'chunk-size' };
      return true;
    }
    const length = value('content-length');
    if (length !== undefined) {
      const n = Number(length);
      if (!Number.isInteger(n) || n < 0)
        throw new Error(`malformed Content-Length ${JSON.stringify(length)}`);
      this.#state = { kind: 'fixed', remaining: n };
      if (n === 0) this.#finish();
      return true;
    }
    const status = Number(startLine.split(' ')[1]);
    const bodiless =
      this.#kind === 'request' || (status >= 100 && status < 200) || status === 204 || status === 304;
    if (bodiless) this.#finish();
    else this.#state = { kind: 'until-close' };
    return true;
  }

  #finish(): void {
    const head = this.#head;
    this.#state = { kind: 'head' };
    this.#head = undefined;
    const body = Buffer.concat(this.#parts);
    this.#parts = [];
    if (head !== undefined) this.#onMessage({ ...head, body });
  }
}
