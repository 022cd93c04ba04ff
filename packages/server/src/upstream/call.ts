import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { decodeWhole } from './read-body.js';

/** Something in flight upstream that the exchange can cancel (client gone, leg budget spent). */
export interface Cancellable {
  abort(reason: Error): void;
}

/**
 * Base of our undici dispatch handlers. undici hands over the request's controller only once the
 * request is written to a socket; an abort before that is remembered and applied then, so a
 * request still queued in the pool is never sent.
 */
export abstract class UpstreamHandler implements Dispatcher.DispatchHandler, Cancellable {
  protected controller: Dispatcher.DispatchController | undefined;
  #pendingAbort: Error | undefined;

  /** Cancels the upstream request and settles this call's outcome at once. */
  abort(reason: Error): void {
    // Settle first: undici reports the abort synchronously through onResponseError, which must
    // then find the outcome already decided (an abort, not an upstream failure).
    this.aborted(reason);
    this.cancel(reason);
  }

  /** Cancels the upstream request (now, or as soon as undici hands it a socket). */
  protected cancel(reason: Error): void {
    if (this.controller === undefined) this.#pendingAbort ??= reason;
    else this.controller.abort(reason);
  }

  /** Settles the call's own outcome on abort, without waiting for undici to report it. */
  protected abstract aborted(reason: Error): void;

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
  }
}

/**
 * An upstream answer already being relayed sent nothing for the idle budget (our own timer: undici's
 * bodyTimeout is off for the decode). Its code classifies it as a timeout (`classifyUpstreamError`).
 */
export class StreamIdleError extends Error {
  readonly code = 'ERR_STREAM_IDLE';
  readonly idleMs: number;

  constructor(idleMs: number) {
    super(`the upstream sent nothing for ${idleMs} ms`);
    this.name = 'StreamIdleError';
    this.idleMs = idleMs;
  }
}

/** A kept answer outgrew its limit (CollectCall's `keepLimit`); the call was aborted. */
export class AnswerTooLargeError extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = 'AnswerTooLargeError';
    this.limit = limit;
  }
}

export interface CollectedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body, decoded: kept when asked for, or for a non-2xx answer (bounded); else undefined (drained). */
  readonly body: Buffer | undefined;
}

/**
 * Reads a whole upstream answer (the prefill leg): resolves when its last byte has arrived,
 * rejects on any transport failure or abort. The body is drained without being kept unless
 * `keepBody` or the status is an error (then at most `errorLimit` bytes, for the message). A kept
 * 2xx body beyond `keepLimit` bytes aborts the call and rejects with AnswerTooLargeError.
 *
 * @example
 * const call = new CollectCall(false, 65_536);
 * pool.dispatch(options, call);
 * const { status } = await call.promise;
 */
export class CollectCall extends UpstreamHandler {
  readonly promise: Promise<CollectedResponse>;
  readonly #keepBody: boolean;
  readonly #errorLimit: number;
  /** A kept 2xx body larger than this fails the call with AnswerTooLargeError. */
  readonly #keepLimit: number;
  #resolve!: (value: CollectedResponse) => void;
  #reject!: (error: Error) => void;
  #settled = false;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] | undefined;
  #size = 0;
  #limit = Number.POSITIVE_INFINITY;
  #overLimitFails = false;

  constructor(keepBody: boolean, errorLimit: number, keepLimit = Number.POSITIVE_INFINITY) {
    super();
    this.#keepBody = keepBody;
    this.#errorLimit = errorLimit;
    this.#keepLimit = keepLimit;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  protected aborted(reason: Error): void {
    this.onResponseError(undefined, reason);
  }

  onResponseStart(_controller: unknown, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    this.#headers = headers;
    const ok = statusCode >= 200 && statusCode <= 299;
    if (this.#keepBody || !ok) {
      this.#chunks = [];
      if (!ok) this.#limit = this.#errorLimit;
    }
    this.#overLimitFails = ok && this.#keepBody && Number.isFinite(this.#keepLimit);
    if (this.#overLimitFails) this.#limit = this.#keepLimit;
  }

  onResponseData(_controller: unknown, chunk: Buffer): void {
    const chunks = this.#chunks;
    if (chunks === undefined || this.#size >= this.#limit) return;
    chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#overLimitFails && this.#size > this.#limit) {
      const error = new AnswerTooLargeError(this.#limit);
      this.onResponseError(undefined, error);
      this.cancel(error);
    }
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    let body: Buffer | undefined;
    if (this.#chunks !== undefined) {
      const raw = Buffer.concat(this.#chunks);
      const encoding = this.#headers['content-encoding'];
      body = decodeWhole(raw, Array.isArray(encoding) ? encoding.join(', ') : encoding, this.#limit);
    }
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_controller: unknown, error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
