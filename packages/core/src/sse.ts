/**
 * Server-sent events framing (WHATWG HTML "event stream" interpretation), shared by the router and
 * mock-vllm. Parsing is incremental and independent of how the stream is cut into chunks.
 */
import { CoreError } from './errors.js';
import { err, ok, type Result } from './result.js';

/**
 * One dispatched event. `event`, `id` and `retry` are present only when the event's own block set
 * them (a non-empty `event:`, an `id:` without NUL, an all-digit `retry:`).
 * @example const event: SseEvent = { data: '{"error": "upstream timeout"}', event: 'error' };
 */
export interface SseEvent {
  readonly data: string;
  readonly event?: string;
  readonly id?: string;
  readonly retry?: number;
}

/**
 * The end-of-stream marker OpenAI-compatible servers, vLLM included, send last.
 * @example if (event.data === '[DONE]') reply.raw.end(SSE_DONE);
 */
export const SSE_DONE = 'data: [DONE]\n\n';

const LF = 10;
const CR = 13;
const BOM = '\uFEFF';
const LINE_BREAK = /\r\n|\r|\n/;
const FIELD_BREAK = /[\r\n]/;
const ALL_DIGITS = /^[0-9]+$/;

/**
 * Incremental SSE parser: feed it chunks (bytes or text) in order, get back the events they complete.
 *
 * - Lines end in `\n`, `\r\n` or `\r`, even when a `\r\n` pair is split across two chunks.
 * - Bytes are decoded as UTF-8 in streaming mode, so a character split across chunks is kept intact;
 *   invalid bytes become U+FFFD. One U+FEFF at the very start of the stream is dropped (per spec).
 * - `:` comment lines are ignored; `data:x` and `data: x` are the same; a line without `:` is a field
 *   with an empty value; several `data` lines join with `\n`; unknown fields are ignored.
 * - A blank line dispatches the event, but only if it had at least one `data` line (as in browsers).
 *   Unlike a browser's sticky `lastEventId`, `id` and `retry` are reported on the event whose block
 *   contained them; a block with no `data` line is dropped together with its `id`/`retry`.
 * - {@link SseParser.end} dispatches nothing: the spec discards an event that was not terminated by a
 *   blank line. Read {@link SseParser.pending} before `end()` to tell a clean end from a truncated one.
 * @example
 * const parser = new SseParser();
 * parser.push('data: {"a":'); // []
 * parser.push('1}\n\ndata: [DONE]\r\n\r\n'); // [{ data: '{"a":1}' }, { data: '[DONE]' }]
 */
export class SseParser {
  #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** The decoder holds the first bytes of a split character (tracked only for {@link pending}). */
  #decoderPending = false;
  /** The last (at most 3) bytes seen, kept only while they may start an unfinished character. */
  #tail: number[] = [];
  /** Text of the current, not yet terminated, line. */
  #line = '';
  #atStreamStart = true;
  /** The previous chunk ended in `\r`: a `\n` starting the next chunk belongs to that line break. */
  #skipLf = false;
  #data: string | undefined;
  #event = '';
  #id: string | undefined;
  #retry: number | undefined;

  /**
   * Feeds the next chunk and returns the events it completed, in order.
   * @example new SseParser().push(new TextEncoder().encode('data: hi\n\n')); // [{ data: 'hi' }]
   */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text: string;
    if (chunk === '') return [];
    if (typeof chunk === 'string') {
      // A string cannot continue a split UTF-8 sequence: flush it (as U+FFFD) before the string.
      text = this.#decoderPending ? this.#decoder.decode() + chunk : chunk;
      this.#decoderPending = false;
      this.#tail = [];
    } else {
      text = this.#decoder.decode(chunk, { stream: true });
      this.#trackUtf8Tail(chunk);
    }
    if (text === '') return [];
    if (this.#atStreamStart) {
      this.#atStreamStart = false;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    const events: SseEvent[] = [];
    let start = 0;
    if (this.#skipLf) {
      this.#skipLf = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    // Only the new text is scanned: #line is known to contain no line break.
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const line = this.#line === '' ? text.slice(start, i) : this.#line + text.slice(start, i);
      this.#line = '';
      if (c === CR) {
        if (i + 1 === text.length) this.#skipLf = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
      const event = this.#processLine(line);
      if (event !== undefined) events.push(event);
    }
    if (start < text.length) this.#line += text.slice(start);
    return events;
  }

  /**
   * True when input is buffered that no blank line has completed yet (a partial line or an event
   * block in progress). Checking it at the end of a stream tells whether the stream was cut short.
   * @example const p = new SseParser(); p.push('data: x\n'); p.pending; // true
   */
  get pending(): boolean {
    return (
      this.#line !== '' ||
      this.#decoderPending ||
      this.#data !== undefined ||
      this.#event !== '' ||
      this.#id !== undefined ||
      this.#retry !== undefined
    );
  }

  /**
   * Ends the stream. Per spec an unterminated final event is discarded, so this always returns `[]`;
   * it resets the parser, which can then read a new stream.
   * @example const p = new SseParser(); p.push('data: cut'); p.end(); // []
   */
  end(): SseEvent[] {
    this.#decoder.decode();
    this.#decoderPending = false;
    this.#tail = [];
    this.#line = '';
    this.#atStreamStart = true;
    this.#skipLf = false;
    this.#resetEvent();
    return [];
  }

  #trackUtf8Tail(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    // Fast path: SSE chunks nearly always end in an ASCII line break, which completes everything.
    if (chunk[n - 1]! < 0x80) {
      this.#tail = [];
      this.#decoderPending = false;
      return;
    }
    const tail = [...this.#tail, ...chunk.subarray(Math.max(0, n - 3))].slice(-3);
    this.#tail = tail;
    this.#decoderPending = endsInPartialUtf8(tail);
  }

  #processLine(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    const colon = line.indexOf(':');
    if (colon === 0) return undefined;
    let field = line;
    let value = '';
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (ALL_DIGITS.test(value)) this.#retry = Number(value);
        break;
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data;
    const event = this.#event;
    const id = this.#id;
    const retry = this.#retry;
    this.#resetEvent();
    if (data === undefined) return undefined;
    if (event === '' && id === undefined && retry === undefined) return { data };
    return {
      data,
      ...(event === '' ? {} : { event }),
      ...(id === undefined ? {} : { id }),
      ...(retry === undefined ? {} : { retry }),
    };
  }

  #resetEvent(): void {
    this.#data = undefined;
    this.#event = '';
    this.#id = undefined;
    this.#retry = undefined;
  }
}

/**
 * Whether these final bytes of a stream are the valid start of a UTF-8 character that needs more
 * bytes, which is when a streaming TextDecoder holds them back (WHATWG Encoding, UTF-8 decoder).
 */
function endsInPartialUtf8(last: readonly number[]): boolean {
  let lead = last.length - 1;
  while (lead >= 0 && (last[lead]! & 0xc0) === 0x80) lead--;
  if (lead < 0) return false;
  const b = last[lead]!;
  const needed = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  const have = last.length - lead;
  if (needed === 0 || have >= needed) return false;
  if (have === 1) return true;
  const second = last[lead + 1]!;
  const [low, high] =
    b === 0xe0
      ? [0xa0, 0xbf]
      : b === 0xed
        ? [0x80, 0x9f]
        : b === 0xf0
          ? [0x90, 0xbf]
          : b === 0xf4
            ? [0x80, 0x8f]
            : [0x80, 0xbf];
  return second >= low && second <= high;
}

/**
 * Serialises one event: `event:`, `id:`, `retry:` (when set), then one `data:` line per line of
 * `data` (`\r\n`, `\r` and `\n` all split lines), then the blank line. An empty `event` is omitted.
 * @returns `PD_ERR_SSE_FIELD_INVALID` when `event` or `id` contains CR or LF (that would inject
 *   fields or whole events), `id` contains NUL (receivers ignore it), or `retry` is not a
 *   non-negative safe integer.
 * @example
 * formatSseEvent({ event: 'ping', id: '7', data: 'a\nb' });
 * // { ok: true, value: 'event: ping\nid: 7\ndata: a\ndata: b\n\n' }
 */
export function formatSseEvent(event: SseEvent): Result<string> {
  let out = '';
  if (event.event !== undefined && event.event !== '') {
    if (FIELD_BREAK.test(event.event)) return invalidField('event', 'contains CR or LF');
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    if (FIELD_BREAK.test(event.id)) return invalidField('id', 'contains CR or LF');
    if (event.id.includes('\0')) return invalidField('id', 'contains NUL');
    out += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      return invalidField('retry', 'is not a non-negative integer');
    }
    out += `retry: ${event.retry}\n`;
  }
  return ok(out + formatSseData(event.data));
}

function invalidField(field: string, why: string): Result<string> {
  return err(new CoreError('PD_ERR_SSE_FIELD_INVALID', `SSE field "${field}" ${why}`));
}

/**
 * Serialises a data-only event: `data: ${data}\n\n`, one `data:` line per line of `data`.
 * @example
 * formatSseData('{"id":"cmpl-1"}'); // 'data: {"id":"cmpl-1"}\n\n'
 * formatSseData('a\nb'); // 'data: a\ndata: b\n\n'
 */
export function formatSseData(data: string): string {
  if (!FIELD_BREAK.test(data)) return `data: ${data}\n\n`;
  return `data: ${data.split(LINE_BREAK).join('\ndata: ')}\n\n`;
}
