import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorReply, ServerError } from '../errors.js';
import type { AbortPhase } from '../metrics.js';
import { errorDetail } from '../upstream/map-error.js';
import { type RouterContext, sendError } from './context.js';
import { CLIENT_CLOSED_STATUS, logOutcome, type Outcome, roundMs } from './outcome.js';
import { RequestLegs } from './request-legs.js';
import { LazyRoutingRequest } from './routing-request.js';

export interface ProxyRoute {
  /** Upstream path: the route's own path (the client's query string is dropped, as in the reference). */
  readonly path: string;
}

/** How a request ended, for its log line. */
interface End {
  readonly status: number;
  readonly outcome: Outcome;
  readonly code?: string | undefined;
  readonly detail?: string | undefined;
}

const CLIENT_LEFT = new Error('client closed the connection');

/**
 * One proxied completion, top to bottom: parse once, pick P and D, hand the legs to the
 * connector (which decides how they run), then answer from the legs' outcomes, count, and write
 * the one log line. The legs own their deadlines, their failure accounting and their workers'
 * in-flight slots; a client that leaves aborts whatever is in flight.
 */
export class Exchange {
  readonly #ctx: RouterContext;
  readonly #request: FastifyRequest;
  readonly #reply: FastifyReply;
  readonly #route: ProxyRoute;
  readonly #t0 = performance.now();
  #legs: RequestLegs | undefined;

  constructor(ctx: RouterContext, request: FastifyRequest, reply: FastifyReply, route: ProxyRoute) {
    this.#ctx = ctx;
    this.#request = request;
    this.#reply = reply;
    this.#route = route;
  }

  #onClientClose = (): void => {
    if (!this.#reply.raw.writableFinished) this.#legs?.abort(CLIENT_LEFT);
  };

  /** Runs the exchange to its end; never rejects. */
  async run(): Promise<void> {
    let end: End;
    try {
      end = await this.#run();
    } catch (error) {
      // A bug, not an upstream fault: answer 500 if we still can.
      this.#legs?.abort(new Error('internal error'));
      const res = this.#reply.raw;
      if (!this.#reply.sent && !res.headersSent) sendError(this.#reply, error);
      else {
        // Counted as a 500 (destroyed with an error: not a client that left).
        res.statusCode = 500;
        res.destroy(new Error('internal error'));
      }
      end = { status: 500, outcome: 'internal_error', code: 'PD_ERR_INTERNAL', detail: errorDetail(error) };
    }
    this.#finish(end);
  }

  async #run(): Promise<End> {
    const ctx = this.#ctx;
    const raw = this.#request.body;
    if (!Buffer.isBuffer(raw)) {
      // Fastify parses no body without a Content-Type: the reference answered this with an error too.
      const error = new ServerError(
        'PD_ERR_UNSUPPORTED_MEDIA_TYPE',
        'Content-Type must be application/json (or application/*+json)',
      );
      return this.#answer(error, 'bad_request');
    }
    const prepared = ctx.connector.prepare(raw);
    if (!prepared.ok) return this.#answer(errorReply(prepared.error), 'bad_request');

    const routing = new LazyRoutingRequest(this.#request.headers, prepared.value.body);
    const registry = ctx.registry;
    const choice = ctx.selector.select(registry.available('prefill'), registry.available('decode'), routing);
    if ('empty' in choice) {
      const code = choice.empty === 'prefill' ? 'PD_ERR_NO_PREFILL_WORKER' : 'PD_ERR_NO_DECODE_WORKER';
      return this.#answer(
        new ServerError(code, `no healthy ${choice.empty} worker is available`),
        'no_worker',
      );
    }
    const prefill = registry.resolve(choice.prefill);
    const decode = registry.resolve(choice.decode);
    registry.acquire(prefill);
    registry.acquire(decode);
    prefill.metrics.decision(choice.reasons?.prefill);
    decode.metrics.decision(choice.reasons?.decode);
    const requestId = ctx.connector.requestId(prefill.address, decode.address, ctx.random16());
    const legs = new RequestLegs(
      ctx.legs,
      this.#reply,
      this.#route.path,
      { prefill, decode, requestId },
      this.#request.log,
      ctx.metrics,
    );
    this.#legs = legs;
    const res = this.#reply.raw;
    res.on('close', this.#onClientClose);
    if (res.destroyed) legs.abort(CLIENT_LEFT);
    let refusal: ServerError | undefined;
    try {
      refusal = await ctx.connector.run(prepared.value, legs);
    } finally {
      legs.releaseUnstarted();
    }
    return this.#conclude(legs, refusal);
  }

  /** The answer, from the legs' outcomes: the decode's when it ran, else why it did not. */
  #conclude(legs: RequestLegs, refusal: ServerError | undefined): End {
    // A decode leg started after the client left sent nothing: as if never started.
    const decode = legs.relaySent ? legs.relayLeg?.outcome : undefined;
    if (decode !== undefined) {
      const { status, failure } = decode;
      switch (decode.end) {
        case 'ok':
          return { status, outcome: status >= 500 ? 'upstream_error' : 'ok' };
        case 'broken':
          return { status, outcome: 'stream_failed', code: failure?.error.code, detail: decode.detail };
        case 'client_stalled':
          return { status: CLIENT_CLOSED_STATUS, outcome: 'client_stalled' };
        case 'failed':
          if (failure !== undefined && legs.abortReason === undefined)
            return this.#answer(failure.error, 'decode_failed');
          break;
        case 'aborted':
          if (decode.ttfbMs >= 0) return this.#clientAbort('stream');
      }
      if (legs.abortReason !== undefined) return this.#clientAbort('decode_wait');
    }
    if (legs.abortReason !== undefined) return this.#clientAbort('prefill');
    const error = legs.collectLeg?.outcome?.failure?.error ?? refusal;
    if (error === undefined)
      throw new Error(`connector ${this.#ctx.connector.name} sent no decode and gave no reason`);
    return this.#answer(error, 'prefill_failed');
  }

  /** Answers an error (nothing was sent yet). */
  #answer(error: ServerError, outcome: Outcome): End {
    sendError(this.#reply, error);
    const cause = error.cause;
    const detail =
      outcome === 'prefill_failed' || outcome === 'decode_failed' ? errorDetail(cause ?? error) : undefined;
    return { status: error.statusCode, outcome, code: error.code, detail };
  }

  #clientAbort(phase: AbortPhase): End {
    this.#ctx.metrics.clientAbort(phase);
    return { status: CLIENT_CLOSED_STATUS, outcome: 'client_abort', detail: phase };
  }

  /** Counts, and writes the request's one log line. */
  #finish(end: End): void {
    const ctx = this.#ctx;
    const legs = this.#legs;
    const route = this.#route.path;
    const totalMs = performance.now() - this.#t0;
    ctx.metrics.totalDuration(route, totalMs / 1_000);
    logOutcome(this.#request.log, end.outcome, {
      requestId: legs?.requestId ?? '',
      route,
      prefill: legs?.prefill.url,
      decode: legs?.decode.url,
      status: end.status,
      outcome: end.outcome,
      code: end.code,
      prefillMs: roundMs(legs?.collectLeg?.outcome?.ms ?? -1),
      decodeTtfbMs: roundMs(legs?.relayLeg?.outcome?.ttfbMs ?? -1),
      totalMs: roundMs(totalMs),
      detail: end.detail,
    });
  }
}
