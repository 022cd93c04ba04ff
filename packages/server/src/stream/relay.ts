import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { UpstreamHandler } from '../upstream/call.js';
import { createDecoders } from './decompress.js';

export type RelayEnd =
  /** The whole answer reached the client. */
  | 'ok'
  /** The upstream failed (or was aborted) before any byte went to the client: the caller still answers. */
  | 'failed_before_first_byte'
  /** The upstream failed mid-answer: the response was ended (SSE: with an error event) or destroyed. */
  | 'failed_after_first_byte'
  /** The client went away; the upstream call was aborted. */
  | 'client_abort'
  /** The client did not read for the stall timeout while we held data for it: both sides closed. */
  | 'client_stalled';

export interface RelayResult {
  readonly end: RelayEnd;
  readonly status: number;
  readonly error: Error | undefined;
  readonly bytes: number;
}

/** The relay's owner (the exchange): told about the first byte, asked for the final error event. */
export interface RelayHost {
  /** Called once, just before the first byte (or the end of an empty answer) goes to the client. */
  firstByte(): void;
  /** The final SSE event written when an event stream breaks off after its first byte. */
  errorEvent(error: Error): string;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Relays an upstream answer to the client as it arrives: an undici dispatch handler that writes
 * the upstream's status, content type and body to the client's response, decompressed when the
 * upstream used Content-Encoding (we asked for gzip/deflate, the client didn't).
 *
 * - Backpressure: when the client's socket buffer is full the upstream is paused (undici stops
 *   reading its socket, and its body timeout stops counting), so a slow reader costs one socket
 *   buffer, not the whole answer; a client that reads nothing for `stallTimeoutMs` is dropped.
 * - Nothing is written before the first body byte, so a failure up to then can still be
 *   answered with a clean error by the caller (`failed_before_first_byte`).
 * - After the first byte, a failure ends an SSE stream with one error event, and breaks any
 *   other response (a truncated JSON answer must not look complete).
 *
 * @example
 * const relay = new Relay(reply, exchange, 30_000);
 * pool.dispatch(options, relay);
 * const result = await relay.done;
 */
export class Relay extends UpstreamHandler {
  readonly done: Promise<RelayResult>;
  readonly #reply: FastifyReply;
  readonly #res: ServerResponse;
  readonly #host: RelayHost;
  readonly #stallTimeoutMs: number;
  #resolve!: (result: RelayResult) => void;
  #status = 0;
  #headerList: string[] = [];
  #decoder: Transform | undefined;
  #started = false;
  #settled = false;
  #sse = false;
  #bytes = 0;
  #paused = false;
  #stallTimer: NodeJS.Timeout | undefined;

  /** @param stallTimeoutMs how long the client may leave written data unread (backpressure) before it is dropped */
  constructor(reply: FastifyReply, host: RelayHost, stallTimeoutMs: number) {
    super();
    this.#reply = reply;
    this.#res = reply.raw;
    this.#host = host;
    this.#stallTimeoutMs = stallTimeoutMs;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /**
   * The owner aborts the relay when the client leaves (it listens to the response's 'close') or
   * when the time-to-first-byte budget is spent (only before the first byte).
   */
  protected aborted(reason: Error): void {
    if (this.#settled) return;
    this.#decoder?.destroy();
    if (!this.#started) {
      this.#settle('failed_before_first_byte', reason);
    } else {
      this.#res.destroy();
      this.#settle('client_abort', undefined);
    }
  }

  onResponseStart(_controller: unknown, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    const list = this.#headerList;
    const contentType = headerValue(headers['content-type']);
    if (contentType !== undefined) {
      list.push('content-type', contentType);
      this.#sse = contentType.startsWith('text/event-stream');
    }
    const encoding = headerValue(headers['content-encoding']);
    const decoders = createDecoders(encoding);
    if (decoders === null) {
      // An encoding we cannot decode is relayed as is, labelled, rather than corrupted.
      list.push('content-encoding', encoding ?? '');
    } else if (decoders !== undefined) {
      this.#pipeDecoders(decoders);
      return;
    }
    const length = headerValue(headers['content-length']);
    // The length only holds for the bytes as sent; decoded bodies go out chunked.
    if (length !== undefined) list.push('content-length', length);
  }

  #pipeDecoders(decoders: Transform[]): void {
    const first = decoders[0];
    let last = first;
    for (let i = 1; i < decoders.length; i++) {
      const next = decoders[i];
      if (last === undefined || next === undefined) break;
      last.pipe(next);
      last.on('error', (error: Error) => this.#onDecodeError(error));
      last = next;
    }
    if (first === undefined || last === undefined) return;
    this.#decoder = first;
    last.on('data', (chunk: Buffer) => this.#emit(chunk));
    last.on('end', () => this.#onDecodedEnd());
    last.on('error', (error: Error) => this.#onDecodeError(error));
    this.#decodedTail = last;
  }

  #decodedTail: Transform | undefined;

  onResponseData(_controller: unknown, chunk: Buffer): void {
    if (this.#settled) return;
    const decoder = this.#decoder;
    if (decoder === undefined) {
      this.#emit(chunk);
    } else if (!decoder.write(chunk)) {
      this.controller?.pause();
      decoder.once('drain', () => {
        if (!this.#settled) this.controller?.resume();
      });
    }
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    if (this.#decoder !== undefined) {
      this.#decoder.end();
      return;
    }
    this.#onDecodedEnd();
  }

  onResponseError(_controller: unknown, error: Error): void {
    if (this.#settled) return;
    this.#decoder?.destroy();
    if (!this.#started) {
      this.#settle('failed_before_first_byte', error);
      return;
    }
    if (this.#sse && !this.#res.destroyed) this.#res.end(this.#host.errorEvent(error));
    else this.#res.destroy();
    this.#settle('failed_after_first_byte', error);
  }

  #begin(): void {
    this.#started = true;
    this.#host.firstByte();
    this.#reply.hijack();
    this.#res.writeHead(this.#status, this.#headerList);
  }

  #onDrain: (() => void) | undefined;
  #onStall: (() => void) | undefined;

  #emit(chunk: Buffer): void {
    if (this.#settled) return;
    if (!this.#started) this.#begin();
    this.#bytes += chunk.length;
    if (!this.#res.write(chunk) && !this.#paused) {
      this.#paused = true;
      if (this.#decodedTail !== undefined) this.#decodedTail.pause();
      else this.controller?.pause();
      // Closures made only when the client pushes back, not on every request.
      this.#onDrain ??= () => this.#drained();
      this.#onStall ??= () => this.#stalled();
      this.#res.once('drain', this.#onDrain);
      this.#stallTimer = setTimeout(this.#onStall, this.#stallTimeoutMs);
    }
  }

  #drained(): void {
    clearTimeout(this.#stallTimer);
    this.#paused = false;
    if (this.#settled) return;
    if (this.#decodedTail !== undefined) this.#decodedTail.resume();
    else this.controller?.resume();
  }

  #onDecodedEnd(): void {
    if (this.#settled) return;
    if (!this.#started) this.#begin();
    this.#res.end();
    this.#settle('ok', undefined);
  }

  #onDecodeError(error: Error): void {
    if (this.#settled) return;
    this.cancel(error);
    this.onResponseError(undefined, error);
  }

  #stalled(): void {
    if (this.#settled) return;
    this.#settle('client_stalled', undefined);
    this.cancel(new Error('client stopped reading'));
    this.#decoder?.destroy();
    this.#res.destroy();
  }

  #settle(end: RelayEnd, error: Error | undefined): void {
    this.#settled = true;
    clearTimeout(this.#stallTimer);
    this.#resolve({ end, status: this.#status, error, bytes: this.#bytes });
  }
}
