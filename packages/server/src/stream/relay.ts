import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import { createResponseIdRewriter, formatSseData, type ResponseIdRewriter } from '@pd-router/core';
import type { FastifyReply } from 'fastify';
import { ServerError } from '../errors.js';
import {
  type LegEnv,
  type LegFailure,
  type LegRequest,
  StreamIdleError,
  transportFailure,
  UNDICI_BACKSTOP_MS,
  UpstreamHandler,
  workerName,
} from '../upstream/leg.js';
import { errorDetail } from '../upstream/map-error.js';
import { createDecoders } from './decompress.js';
import { endsEvent, NOTHING_SENT_TAIL, withTail } from './sse-tail.js';

export type RelayEnd =
  /** The whole answer reached the client (whatever its status: any HTTP answer is relayed). */
  | 'ok'
  /** The upstream failed before any byte went to the client (`failure`): the caller still answers. */
  | 'failed'
  /** The upstream failed mid-answer: the response was ended (SSE: with an error event) or destroyed. */
  | 'broken'
  /** Aborted (the client left, or the connector gave up); `ttfbMs` >= 0 when bytes had been sent. */
  | 'aborted'
  /** The client did not read for the stall budget while we held data for it: both sides closed. */
  | 'client_stalled';

export interface RelayResult {
  readonly end: RelayEnd;
  readonly status: number;
  /** `failed`: the client's error; `broken`: the error event's (PD_ERR_STREAM_IDLE or _BROKEN). */
  readonly failure: LegFailure | undefined;
  /** `broken`: the cause, for the log line. */
  readonly detail: string | undefined;
  /** From the request to the first body byte (ms); -1 when none was sent. */
  readonly ttfbMs: number;
}

/** process.nextTick callback (module-level: no closure per tick). */
function flushRelay(relay: Relay): void {
  relay.flush();
}

/** setTimeout callback of the idle timer (module-level: no closure per stream). */
function relayIdle(relay: Relay): void {
  relay.idle();
}

/** setTimeout callback of the first-byte budget. */
function relayFirstByteTimeout(relay: Relay): void {
  relay.firstByteTimeout();
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
 *   reading its socket), so a slow reader costs one socket buffer, not the whole answer; a client
 *   that reads nothing for `stallMs` is dropped (`client_stalled`).
 * - Deadlines (the leg owns them): the first body byte must come within `firstByteMs` of the
 *   request, headers or not (vLLM sends a stream's headers at once, its first event once the
 *   decode is scheduled); after it, an upstream silent for `idleMs` fails the answer. The idle
 *   timer is off while the relay itself holds the upstream paused: that silence is the client's.
 * - Accounting: the leg classifies its failure once (`failure.kind`), reports its outcome to the
 *   registry (a 5xx answer or a failure counts against the worker), observes the time to first
 *   byte, and frees the worker's in-flight slot when it settles.
 * - Nothing is written before the first body byte, so a failure up to then can still be
 *   answered with a clean error by the caller (`failed`).
 * - After the first byte, a failure ends an SSE stream with one error event (an event of its own:
 *   a half-sent upstream event is ended first), and breaks any other response (a truncated JSON
 *   answer must not look complete).
 * - Writes are coalesced: the chunks undici hands over in one tick (one per upstream HTTP chunk,
 *   hundreds per socket read for a fast stream) leave in one `write` at the end of that tick
 *   (docs/decisions/001-hot-path.md). Queued chunks precede the error event of a failure; an
 *   abort or a stall drops them.
 *
 * @example
 * const relay = new Relay(env, reply, { worker, path, requestId, body });
 * relay.start();
 * const result = await relay.result;
 */
export class Relay extends UpstreamHandler {
  readonly result: Promise<RelayResult>;
  /** Set when the leg settles, before `result` resolves. */
  outcome: RelayResult | undefined;
  readonly #env: LegEnv;
  readonly #request: LegRequest;
  readonly #reply: FastifyReply;
  readonly #res: ServerResponse;
  #resolve!: (result: RelayResult) => void;
  #t0 = 0;
  #ttfbMs = -1;
  #firstByteTimer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #idled = false;
  #status = 0;
  #headerList: string[] = [];
  #decoder: Transform | undefined;
  #started = false;

  /** Whether the first byte has gone to the client (from then on a failure cannot be answered). */
  get started(): boolean {
    return this.#started;
  }
  #settled = false;
  #sse = false;
  #paused = false;
  #stallTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The last bytes sent to the client (sse-tail.ts): does the next byte start a new event? */
  #tail = NOTHING_SENT_TAIL;
  /** Body chunks received in this tick, written together by flush(). */
  readonly #queued: Buffer[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  /** Rewrites vLLM's answer id (core's response-id.ts); undefined: bytes go out as they came. */
  readonly #rewriter: ResponseIdRewriter | undefined;
  /** The upstream Content-Length while a rewriter may still change the body's length. */
  #upstreamLength: number | undefined;

  constructor(env: LegEnv, reply: FastifyReply, request: LegRequest) {
    super();
    this.#env = env;
    this.#request = request;
    this.#reply = reply;
    this.#res = reply.raw;
    // vLLM names its answer after the request id; under P2P NCCL that id holds internal addresses.
    this.#rewriter =
      env.keepVllmResponseId === true ? undefined : createResponseIdRewriter(request.requestId);
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /**
   * Sends the request and starts the first-byte budget. No bodyTimeout: undici would start it at
   * the headers, cutting a queued stream at the idle budget; headersTimeout is only a backstop.
   */
  start(): void {
    const budget = this.#env.budgets.firstByteMs;
    this.#t0 = performance.now();
    this.#firstByteTimer = setTimeout(relayFirstByteTimeout, budget, this);
    this.dispatch(this.#request, budget + UNDICI_BACKSTOP_MS, 0);
  }

  /** The first-byte budget is spent (called by its timer only). */
  firstByteTimeout(): void {
    if (this.#settled || this.#started) return;
    this.#timedOut = true;
    const error = new Error('leg budget spent');
    this.cancel(error);
    this.onResponseError(undefined, error);
  }

  /** The client left, or the connector gave up: nothing more is relayed, nothing is reported. */
  protected aborted(): void {
    if (this.#settled) return;
    this.#decoder?.destroy();
    if (this.#started) this.#res.destroy();
    this.#settle('aborted', undefined);
  }

  onResponseStart(_controller: unknown, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    if (this.#request.retryStatus?.(statusCode) === true) {
      // Nothing was written yet: the request is retried elsewhere instead of relaying this answer.
      const name = workerName(this.#env, this.#request.worker);
      const error = new ServerError('PD_ERR_DECODE_UNAVAILABLE', `${name} answered HTTP ${statusCode}`);
      this.cancel(error);
      this.#settle('failed', { kind: 'status', error });
      return;
    }
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
    if (length === undefined) return;
    if (this.#rewriter === undefined) list.push('content-length', length);
    else this.#upstreamLength = Number(length);
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
      return;
    }
    // Compressed bytes count as activity even before the decoder gives any output.
    this.#idleTimer?.refresh();
    if (!decoder.write(chunk)) {
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
    const env = this.#env;
    const worker = this.#request.worker;
    if (!this.#started) {
      const failure = transportFailure(env, worker, this.#timedOut, error, env.budgets.firstByteMs);
      this.#settle('failed', failure);
      return;
    }
    const name = workerName(env, worker);
    const failure: LegFailure = this.#idled
      ? {
          kind: 'stream_idle',
          error: new ServerError(
            'PD_ERR_STREAM_IDLE',
            `${name} sent nothing for ${env.budgets.idleMs} ms; the stream was ended`,
          ),
        }
      : {
          kind: 'stream_broken',
          error: new ServerError('PD_ERR_STREAM_BROKEN', `${name} broke off the stream`),
        };
    if (this.#sse && !this.#res.destroyed) {
      // Events received before the failure still reach the client, then the error event.
      this.#flushRewriter();
      const data = this.#takeQueued();
      if (data !== undefined) this.#res.write(data);
      // A half-sent upstream event is ended first, so that ours is an event of its own.
      const separator = endsEvent(this.#tail) ? '' : '\n\n';
      this.#res.end(separator + formatSseData(failure.error.body()));
      // Destroyed with the error: counted with the status sent, not as a client that left.
    } else this.#res.destroy(error);
    this.#settle('broken', failure, errorDetail(error));
  }

  #begin(): void {
    this.#started = true;
    clearTimeout(this.#firstByteTimer);
    this.#ttfbMs = performance.now() - this.#t0;
    this.#request.worker.metrics.latency.observe(this.#ttfbMs / 1_000);
    this.#reply.hijack();
    const length = this.#upstreamLength;
    const rewriter = this.#rewriter;
    // A rewritten body is shorter: its length is known when the whole body came in the first
    // chunk (a JSON answer, usually), else it goes out chunked.
    if (length !== undefined && rewriter !== undefined && rewriter.seen >= length)
      this.#headerList.push('content-length', String(length - rewriter.replaced * rewriter.shrinkBy));
    this.#res.writeHead(this.#status, this.#headerList);
  }

  /**
   * Ends the answer with the router's own error (`--request-timeout-secs` ran out), not charged to
   * the worker: before the first byte the caller answers it; after, an event stream ends with its
   * error event and any other answer is broken off.
   */
  endWith(error: ServerError): void {
    if (this.#settled) return;
    this.#decoder?.destroy();
    const failure: LegFailure = { kind: 'timeout', error };
    // Settled before the upstream is cancelled: undici reports the cancel synchronously, and must
    // find the outcome decided (ours, not a broken upstream).
    if (!this.#started) {
      this.#settle('failed', failure, undefined, false);
      this.cancel(error);
      return;
    }
    if (this.#sse && !this.#res.destroyed) {
      this.#flushRewriter();
      const data = this.#takeQueued();
      if (data !== undefined) this.#res.write(data);
      const separator = endsEvent(this.#tail) ? '' : '\n\n';
      this.#res.end(separator + formatSseData(error.body()));
    } else this.#res.destroy(error);
    this.#settle('broken', failure, error.message, false);
    this.cancel(error);
  }

  /** The idle timer fired: the upstream sent nothing for the idle budget (called by the timer only). */
  idle(): void {
    if (this.#settled || this.#paused) return;
    this.#idled = true;
    const error = new StreamIdleError(this.#env.budgets.idleMs);
    this.cancel(error);
    this.onResponseError(undefined, error);
  }

  #onDrain: (() => void) | undefined;
  #onStall: (() => void) | undefined;

  /**
   * Queues a body chunk; the queue goes out in one `write` at the end of the current tick.
   * undici hands over one chunk per upstream HTTP chunk (one per SSE event from vLLM), often
   * hundreds from a single socket read; written one by one, each costs Node four buffered
   * writes (size, CRLF, data, CRLF) and the socket a writev with four iovecs per event, which
   * made streaming cost 1.4-1.8x the CPU of a proxy that reads the upstream body as a stream.
   */
  #emit(input: Buffer): void {
    if (this.#settled) return;
    const chunk = this.#rewriter === undefined ? input : this.#rewriter.push(input);
    if (chunk.length === 0 && this.#rewriter !== undefined) {
      // Held back: a chunk that ended inside an id. Still activity from the upstream.
      this.#idleTimer?.refresh();
      return;
    }
    if (!this.#started) this.#begin();
    this.#queued.push(chunk);
    this.#queuedBytes += chunk.length;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // Once per tick, not per chunk: a refresh re-inserts the timer.
      this.#idleTimer?.refresh();
      // nextTick: after undici's parser has handed over every chunk of this socket read, before
      // any timer or I/O callback, so coalescing adds no latency.
      process.nextTick(flushRelay, this);
    }
  }

  /** The queued chunks as one buffer (undefined when none), emptying the queue. */
  #takeQueued(): Buffer | undefined {
    const queued = this.#queued;
    if (queued.length === 0) return undefined;
    const data = queued.length === 1 ? queued[0] : Buffer.concat(queued, this.#queuedBytes);
    queued.length = 0;
    this.#queuedBytes = 0;
    if (data !== undefined && this.#sse) this.#tail = withTail(this.#tail, data);
    return data;
  }

  /**
   * Writes what was queued during this tick; pauses the upstream when the client pushes back.
   * Called by the relay itself from `process.nextTick` (public only for that callback).
   */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#settled) return;
    const data = this.#takeQueued();
    if (data === undefined) return;
    if (!this.#res.write(data) && !this.#paused) {
      // Outside onResponseData, undici applies the pause at its next chunk: about one more socket
      // read is queued beyond the client's high-water mark.
      this.#paused = true;
      if (this.#decodedTail !== undefined) this.#decodedTail.pause();
      else this.controller?.pause();
      // Closures made only when the client pushes back, not on every request.
      this.#onDrain ??= () => this.#drained();
      this.#onStall ??= () => this.#stalled();
      this.#res.once('drain', this.#onDrain);
      this.#stallTimer = setTimeout(this.#onStall, this.#env.budgets.stallMs);
      // The upstream is silent because we hold it: not its idleness.
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    } else if (this.#idleTimer === undefined && !this.#paused) {
      // Armed here, not at the first byte: an answer that ends in its first tick (most JSON
      // answers) never needs it. Later ticks refresh it in #emit.
      this.#idleTimer = setTimeout(relayIdle, this.#env.budgets.idleMs, this);
    }
  }

  #drained(): void {
    clearTimeout(this.#stallTimer);
    this.#paused = false;
    if (this.#settled) return;
    this.#idleTimer = setTimeout(relayIdle, this.#env.budgets.idleMs, this);
    if (this.#decodedTail !== undefined) this.#decodedTail.resume();
    else this.controller?.resume();
  }

  #onDecodedEnd(): void {
    if (this.#settled) return;
    this.#flushRewriter();
    if (!this.#started) this.#begin();
    // The last queued chunks and the end in one write (a small answer: headers, body, end).
    const data = this.#takeQueued();
    if (data === undefined) this.#res.end();
    else this.#res.end(data);
    this.#settle('ok', undefined);
  }

  /** Queues what the rewriter held back (an answer that ends inside a partial id). */
  #flushRewriter(): void {
    const rest = this.#rewriter?.end();
    if (rest === undefined || rest.length === 0) return;
    if (!this.#started) this.#begin();
    this.#queued.push(rest);
    this.#queuedBytes += rest.length;
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

  /** Settles once: reports the outcome to the registry (unless aborted or stalled), frees the worker. */
  #settle(end: RelayEnd, failure: LegFailure | undefined, detail?: string, charge = true): void {
    this.#settled = true;
    this.#queued.length = 0;
    clearTimeout(this.#firstByteTimer);
    clearTimeout(this.#stallTimer);
    clearTimeout(this.#idleTimer);
    const outcome: RelayResult = { end, status: this.#status, failure, detail, ttfbMs: this.#ttfbMs };
    this.outcome = outcome;
    const { registry } = this.#env;
    const worker = this.#request.worker;
    // Any HTTP answer is relayed; only a 5xx counts against the worker.
    if (failure !== undefined) {
      if (charge) registry.reportFailure(worker, failure.kind);
    } else if (end === 'ok') {
      if (this.#status >= 500) registry.reportFailure(worker, 'status');
      else registry.reportSuccess(worker);
    }
    registry.release(worker);
    this.#resolve(outcome);
  }
}
