import { type CoreError, formatSseData } from '@pd-router/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PreparedRequest } from '../connectors/types.js';
import { errorTypeForStatus, openAiErrorBody, ServerError } from '../errors.js';
import type { AbortPhase, UpstreamErrorKind } from '../metrics.js';
import { Relay } from '../stream/relay.js';
import {
  AnswerTooLargeError,
  type Cancellable,
  CollectCall,
  type CollectedResponse,
} from '../upstream/call.js';
import { prefillStatusError } from '../upstream/error-text.js';
import { withRequest } from '../upstream/headers.js';
import { classifyUpstreamError, errorDetail, legError } from '../upstream/map-error.js';
import type { Worker } from '../workers/worker.js';
import { type RouterContext, sendError, sendServerError } from './context.js';
import { CLIENT_CLOSED_STATUS, logOutcome, type Outcome, roundMs } from './outcome.js';
import { LazyRoutingRequest } from './routing-request.js';

/** Error bodies from a worker are read up to this size: enough for any vLLM message. */
const ERROR_BODY_LIMIT_BYTES = 65_536;
/**
 * Our own timers (exact, setTimeout) enforce the leg budgets. undici's headersTimeout and
 * bodyTimeout run on its 499 ms "fast timer" ticks and can fire up to ~0.5 s early (or late), so
 * they are only a backstop this much beyond the budget, and never decide a timeout's outcome.
 */
const UNDICI_BACKSTOP_MS = 1_000;

export interface ProxyRoute {
  /** Upstream path: the route's own path (the client's query string is dropped, as in the reference). */
  readonly path: string;
}

type Phase = 'prefill' | 'decode_wait' | 'stream' | 'done';

function onLegTimeout(exchange: Exchange): void {
  exchange.timeout();
}

/**
 * One proxied completion: parse once, pick P and D, prefill, decode, relay. Holds the request's
 * state (abort controller, timers, in-flight accounting) so that every outcome releases each
 * worker exactly once, a client that leaves aborts whatever is in flight, and exactly one log
 * line is written.
 */
export class Exchange {
  readonly #ctx: RouterContext;
  readonly #request: FastifyRequest;
  readonly #reply: FastifyReply;
  readonly #route: ProxyRoute;
  readonly #t0 = performance.now();
  /** The upstream call in flight, aborted when the client leaves or the leg's budget is spent. */
  #call: Cancellable | undefined;
  #phase: Phase = 'prefill';
  #timedOut = false;
  #clientGone = false;
  #timer: NodeJS.Timeout | undefined;
  #prefill: Worker | undefined;
  #decode: Worker | undefined;
  #routing: LazyRoutingRequest | undefined;
  #id = '';
  #prefillMs = -1;
  #ttfbMs = -1;
  #decodeStart = 0;

  constructor(ctx: RouterContext, request: FastifyRequest, reply: FastifyReply, route: ProxyRoute) {
    this.#ctx = ctx;
    this.#request = request;
    this.#reply = reply;
    this.#route = route;
  }

  /** Called by the leg timer: the budget of the leg in flight is spent. */
  timeout(): void {
    this.#timedOut = true;
    this.#call?.abort(new Error('leg budget spent'));
  }

  #onClientClose = (): void => {
    if (this.#phase === 'done' || this.#reply.raw.writableFinished) return;
    this.#clientGone = true;
    this.#call?.abort(new Error('client closed the connection'));
  };

  /** Runs the exchange to its end; never rejects. */
  async run(): Promise<void> {
    try {
      await this.#run();
    } catch (error) {
      // A bug, not an upstream fault: answer 500 if we still can, release, log.
      if (!this.#reply.sent && !this.#reply.raw.headersSent) {
        sendError(this.#reply, 500, 'PD_ERR_INTERNAL', 'server_error', 'internal error');
      } else {
        this.#reply.raw.destroy();
      }
      if (this.#phase !== 'done') this.#finish(500, 'internal_error', 'PD_ERR_INTERNAL', errorDetail(error));
    }
  }

  async #run(): Promise<void> {
    const ctx = this.#ctx;
    const raw = this.#request.body;
    if (!Buffer.isBuffer(raw)) {
      // Fastify parses no body without a Content-Type: the reference answered this with an error too.
      const error = new ServerError(
        'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
        'Content-Type must be application/json (or application/*+json)',
      );
      return this.#reject(error.statusCode, error.code, error.message, 'bad_request');
    }
    const prepared = ctx.connector.prepare(raw);
    if (!prepared.ok) return this.#rejectBody(prepared.error);

    const routing = new LazyRoutingRequest(this.#request.headers, prepared.value.body);
    const registry = ctx.registry;
    const choice = ctx.selector.select(registry.available('prefill'), registry.available('decode'), routing);
    if ('empty' in choice) {
      const code = choice.empty === 'prefill' ? 'PD_ERR_NO_PREFILL_WORKER' : 'PD_ERR_NO_DECODE_WORKER';
      const error = new ServerError(code, `no healthy ${choice.empty} worker is available`);
      return this.#reject(error.statusCode, error.code, error.message, 'no_worker');
    }
    const p = registry.resolve(choice.prefill);
    const d = registry.resolve(choice.decode);
    registry.acquire(p);
    registry.acquire(d);
    this.#prefill = p;
    this.#decode = d;
    this.#routing = routing;
    p.metrics.decision(choice.reasons?.prefill);
    d.metrics.decision(choice.reasons?.decode);
    this.#id = ctx.connector.requestId(p.address, d.address, ctx.random16());

    const res = this.#reply.raw;
    res.on('close', this.#onClientClose);
    if (res.destroyed) this.#clientGone = true;

    const answer = await this.#prefillLeg(p, prepared.value);
    this.#releasePrefill();
    if (answer instanceof ServerError) return this.#failBeforeBytes(answer, 'prefill_failed');
    if (this.#clientGone) return this.#clientAbort('prefill');

    const decode = ctx.connector.decodeBody(prepared.value, answer, p.address);
    if (!decode.ok) {
      if (decode.error.code === 'PD_ERR_PREFILL_BAD_ANSWER') this.#badAnswer(p);
      return this.#failBeforeBytes(decode.error, 'prefill_failed');
    }
    const { recompute, remoteHostRewrite } = decode.value;
    if (recompute !== undefined) {
      // Never silent: a decode without KV recomputes the whole prompt (NIXL, docs/kv-connectors.md).
      ctx.metrics.nixlRecompute(recompute.reason);
      if (recompute.reason === 'bad_answer') this.#badAnswer(p);
      this.#request.log.warn(
        { requestId: this.#id, prefill: p.url, reason: recompute.reason, detail: recompute.detail },
        'no usable kv_transfer_params from the prefill: the decode recomputes the prompt',
      );
    }
    if (remoteHostRewrite !== undefined) {
      ctx.metrics.nixlRemoteHostRewrite();
      if (ctx.debug)
        this.#request.log.debug({ requestId: this.#id, ...remoteHostRewrite }, 'remote_host rewritten');
    }
    await this.#decodeLeg(d, decode.value.body);
  }

  /** Sends the prefill and reads its whole answer. Returns the answer (if the connector wants it), or an error. */
  async #prefillLeg(p: Worker, prepared: PreparedRequest): Promise<Buffer | undefined | ServerError> {
    const ctx = this.#ctx;
    const budget = ctx.config.prefillTimeoutMs;
    if (this.#clientGone) return undefined;
    const start = performance.now();
    if (ctx.debug)
      this.#request.log.debug(
        { requestId: this.#id, prefill: p.url, body: prepared.prefill },
        'prefill request',
      );
    const call = new CollectCall(
      ctx.connector.readsPrefillAnswer,
      ERROR_BODY_LIMIT_BYTES,
      ctx.connector.prefillAnswerLimitBytes,
    );
    this.#call = call;
    // One timer for the whole leg (connect, queueing, headers and body), not only headersTimeout.
    this.#timer = setTimeout(onLegTimeout, budget, this);
    const backstop = budget + UNDICI_BACKSTOP_MS;
    p.pool.dispatch(
      {
        method: 'POST',
        path: this.#route.path,
        headers: withRequest(p.headers, this.#id, prepared.prefill.length),
        body: prepared.prefill,
        headersTimeout: backstop,
        bodyTimeout: backstop,
      },
      call,
    );
    try {
      const answer = await call.promise;
      if (answer.status < 200 || answer.status > 299) return this.#prefillStatus(p, answer);
      this.#prefillMs = performance.now() - start;
      p.metrics.latency.observe(this.#prefillMs / 1_000);
      this.#ctx.registry.reportSuccess(p);
      return answer.body;
    } catch (error) {
      if (this.#clientGone) return undefined;
      if (error instanceof AnswerTooLargeError) {
        this.#badAnswer(p);
        return new ServerError(
          'PD_ERR_PREFILL_BAD_ANSWER',
          `${this.#name(p)} answered more than ${error.limit} bytes`,
        );
      }
      return this.#legError(p, error, budget);
    } finally {
      clearTimeout(this.#timer);
      this.#call = undefined;
    }
  }

  /** A prefill that answered non-2xx: a 4xx is the client's problem (relayed), anything else is ours (502). */
  #prefillStatus(p: Worker, answer: CollectedResponse): ServerError {
    const error = prefillStatusError(answer.status, answer.body ?? Buffer.alloc(0), this.#name(p));
    if (error.code === 'PD_ERR_PREFILL_REJECTED') {
      // The worker is fine; the request is not: no upstream error, a success for its circuit.
      this.#ctx.registry.reportSuccess(p);
    } else {
      p.metrics.error('status');
      this.#ctx.registry.reportFailure(p, 'status');
    }
    return error;
  }

  /** A 2xx prefill answer the connector cannot use (NIXL: not a JSON object, too large). */
  #badAnswer(p: Worker): void {
    p.metrics.error('bad_response');
    this.#ctx.registry.reportFailure(p, 'bad_response');
  }

  /** Maps a transport failure of a leg (before any byte reached the client) to a coded error. */
  #legError(worker: Worker, error: unknown, budget: number): ServerError {
    const kind: UpstreamErrorKind = this.#timedOut ? 'timeout' : classifyUpstreamError(error);
    worker.metrics.error(kind);
    this.#ctx.registry.reportFailure(worker, kind);
    const detail = this.#ctx.debug ? ` (${errorDetail(error)})` : '';
    return legError(worker.role, this.#name(worker), kind, budget, detail, error);
  }

  async #decodeLeg(d: Worker, body: string): Promise<void> {
    const ctx = this.#ctx;
    const budget = ctx.config.decodeTtftTimeoutMs;
    this.#phase = 'decode_wait';
    this.#timedOut = false;
    if (ctx.debug) this.#request.log.debug({ requestId: this.#id, decode: d.url, body }, 'decode request');
    this.#decodeStart = performance.now();
    const relay = new Relay(this.#reply, this, ctx.config.streamIdleTimeoutMs);
    this.#call = relay;
    // The TTFT budget runs from here to the first body byte (firstByte() clears it), headers or
    // not: vLLM sends an event stream's headers at once, its first event only once the decode
    // is scheduled. From the first byte on, the relay's idle timer bounds each silence. No
    // bodyTimeout: undici would start it at the headers, cutting a queued stream at the idle budget.
    this.#timer = setTimeout(onLegTimeout, budget, this);
    d.pool.dispatch(
      {
        method: 'POST',
        path: this.#route.path,
        headers: withRequest(d.headers, this.#id, body.length),
        body,
        headersTimeout: budget + UNDICI_BACKSTOP_MS,
        bodyTimeout: 0,
      },
      relay,
    );
    const result = await relay.done;
    clearTimeout(this.#timer);
    this.#call = undefined;
    const status = result.status;
    switch (result.end) {
      case 'ok':
        // Any HTTP answer is relayed; only a 5xx counts against the worker.
        if (status >= 500) {
          d.metrics.error('status');
          ctx.registry.reportFailure(d, 'status');
        } else {
          ctx.registry.reportSuccess(d);
        }
        return this.#finish(status, status >= 500 ? 'upstream_error' : 'ok');
      case 'failed_before_first_byte':
        if (this.#clientGone) return this.#clientAbort('decode_wait');
        return this.#failBeforeBytes(this.#legError(d, result.error, budget), 'decode_failed');
      case 'failed_after_first_byte': {
        const kind = classifyUpstreamError(result.error) === 'timeout' ? 'stream_idle' : 'stream_broken';
        d.metrics.error(kind);
        ctx.registry.reportFailure(d, kind);
        return this.#finish(status, 'stream_failed', kind, errorDetail(result.error));
      }
      case 'client_abort':
        return this.#clientAbort(this.#ttfbMs >= 0 ? 'stream' : 'decode_wait');
      case 'client_stalled':
        return this.#finish(CLIENT_CLOSED_STATUS, 'client_stalled');
    }
  }

  /** RelayHost: the first decode byte is about to reach the client. */
  firstByte(): void {
    clearTimeout(this.#timer);
    this.#phase = 'stream';
    this.#ttfbMs = performance.now() - this.#decodeStart;
    this.#decode?.metrics.latency.observe(this.#ttfbMs / 1_000);
  }

  /** RelayHost: the final SSE event of a stream that broke off after its first byte. */
  errorEvent(error: Error): string {
    const idle = classifyUpstreamError(error) === 'timeout';
    const name = this.#decode === undefined ? 'decode worker' : this.#name(this.#decode);
    const body = idle
      ? openAiErrorBody(
          'PD_ERR_STREAM_IDLE',
          'timeout_error',
          `${name} sent nothing for ${this.#ctx.config.streamIdleTimeoutMs} ms; the stream was ended`,
        )
      : openAiErrorBody('PD_ERR_STREAM_BROKEN', 'upstream_error', `${name} broke off the stream`);
    return formatSseData(body);
  }

  /** Names a worker for clients: its ordinal, or its address at debug level. */
  #name(worker: Worker): string {
    return this.#ctx.debug ? `${worker.label} (${worker.url})` : worker.label;
  }

  #rejectBody(error: CoreError | ServerError): void {
    if (error instanceof ServerError) {
      sendServerError(this.#reply, error);
      this.#finish(error.statusCode, 'bad_request', error.code);
      return;
    }
    const status = error.statusCode ?? 400;
    this.#reject(status, error.code, error.message, 'bad_request');
  }

  #reject(status: number, code: string, message: string, outcome: Outcome): void {
    sendError(this.#reply, status, code, errorTypeForStatus(status), message);
    this.#finish(status, outcome, code);
  }

  #failBeforeBytes(error: ServerError, outcome: Outcome): void {
    if (this.#clientGone) {
      this.#clientAbort(this.#phase === 'prefill' ? 'prefill' : 'decode_wait');
      return;
    }
    sendServerError(this.#reply, error);
    this.#finish(error.statusCode, outcome, error.code, errorDetail(error.cause ?? error));
  }

  #clientAbort(phase: AbortPhase): void {
    this.#ctx.metrics.clientAbort(phase);
    this.#finish(CLIENT_CLOSED_STATUS, 'client_abort', undefined, phase);
  }

  #releasePrefill(): void {
    const p = this.#prefill;
    if (p === undefined) return;
    this.#prefill = undefined;
    this.#ctx.registry.release(p);
    if (this.#routing !== undefined) this.#ctx.releasePolicy?.(p, this.#routing);
    this.#prefillUrl = p.url;
  }

  #prefillUrl: string | undefined;

  /** Releases what is still held, counts, and writes the request's one log line. */
  #finish(status: number, outcome: Outcome, code?: string, detail?: string): void {
    this.#phase = 'done';
    this.#releasePrefill();
    const ctx = this.#ctx;
    const d = this.#decode;
    if (d !== undefined) {
      this.#decode = undefined;
      ctx.registry.release(d);
      if (this.#routing !== undefined) ctx.releasePolicy?.(d, this.#routing);
    }
    const route = this.#route.path;
    const totalMs = performance.now() - this.#t0;
    ctx.metrics.request(route, status);
    ctx.metrics.totalDuration(route, totalMs / 1_000);
    logOutcome(this.#request.log, outcome, {
      requestId: this.#id,
      route,
      prefill: this.#prefillUrl,
      decode: d?.url,
      status,
      outcome,
      code,
      prefillMs: roundMs(this.#prefillMs),
      decodeTtfbMs: roundMs(this.#ttfbMs),
      totalMs: roundMs(totalMs),
      detail,
    });
  }
}
