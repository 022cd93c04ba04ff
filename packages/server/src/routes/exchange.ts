import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PreparedRequest } from '../connectors/types.js';
import { errorReply, ServerError } from '../errors.js';
import { takePrepared } from '../intake/parse-slices.js';
import type { AbortPhase } from '../metrics.js';
import type { PairChoice } from '../policies/types.js';
import { backoffMs, isRetryableStatus, type RetryReason, retryReason } from '../retry/retry-policy.js';
import type { RequestTrace } from '../tracing/index.js';
import { errorDetail } from '../upstream/map-error.js';
import type { Worker } from '../workers/worker.js';
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
/** What a P2P NCCL decode timeout most often means, and the fix (docs/kv-connectors.md). */
export const P2P_KV_HINT =
  'the decode may not have received the KV cache: on vLLM >= 0.14 set VLLM_DISABLE_REQUEST_ID_RANDOMIZATION=1 on every instance';

function onRequestTimeout(exchange: Exchange): void {
  exchange.requestTimeout();
}

/** `available` without the workers that already failed this request, unless that leaves none. */
function excluding(available: readonly Worker[], failed: ReadonlySet<Worker> | undefined): readonly Worker[] {
  if (failed === undefined || failed.size === 0) return available;
  const others = available.filter((w) => !failed.has(w));
  return others.length === 0 ? available : others;
}

/** A failed attempt that a retry may replace: nothing reached the client. */
interface RetryableFailure {
  readonly leg: 'prefill' | 'decode';
  readonly reason: RetryReason;
  readonly worker: Worker;
}

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
  /** Attempts so far: a retry is a new pair, a new id, both legs again (docs/retries.md). */
  #attempt = 0;
  /** Workers that failed this request: a retry goes elsewhere when it can. */
  #failed: Set<Worker> | undefined;
  #clientGone = false;
  /** `--request-timeout-secs`. */
  #deadline: NodeJS.Timeout | undefined;
  #requestTimedOut = false;
  #done = false;
  /** Ends a backoff wait early (the client left, or the request's time ran out). */
  #wake: (() => void) | undefined;
  /** Tracing on: the request's server span (its hook started it). */
  readonly #trace: RequestTrace | undefined;

  constructor(ctx: RouterContext, request: FastifyRequest, reply: FastifyReply, route: ProxyRoute) {
    this.#ctx = ctx;
    this.#request = request;
    this.#reply = reply;
    this.#route = route;
    this.#trace = ctx.tracing?.claim(request.raw);
  }

  #onClientClose = (): void => {
    if (this.#reply.raw.writableFinished) return;
    this.#clientGone = true;
    this.#legs?.abort(CLIENT_LEFT);
    this.#wake?.();
  };

  /** Called by the request timer: `--request-timeout-secs` is spent, whatever the phase. */
  requestTimeout(): void {
    if (this.#done) return;
    this.#requestTimedOut = true;
    this.#wake?.();
    this.#legs?.expire(this.#requestTimeoutError());
  }

  #requestTimeoutError(): ServerError {
    return new ServerError(
      'PD_ERR_REQUEST_TIMEOUT',
      `the request took longer than ${this.#ctx.config.requestTimeoutMs ?? 0} ms (--request-timeout-secs)`,
    );
  }

  /** Whether another attempt may follow this one. */
  #mayRetry(): boolean {
    const retry = this.#ctx.config.retry;
    return (
      retry !== undefined && this.#attempt < retry.maxAttempts && !this.#clientGone && !this.#requestTimedOut
    );
  }

  /** Relay legs: a decode answer with this status is dropped unrelayed when a retry may replace it. */
  readonly #retryStatus = (status: number): boolean => isRetryableStatus(status) && this.#mayRetry();

  /** Waits `ms` (a retry's backoff), or less if the client leaves or the request's time runs out. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => {
      this.#wake = undefined;
    });
  }

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
    this.#done = true;
    clearTimeout(this.#deadline);
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
    // Large bodies were canonicalized in slices at intake (intake/parse-slices.ts).
    const prepared = takePrepared(raw) ?? ctx.connector.prepare(raw);
    if (!prepared.ok) return this.#answer(errorReply(prepared.error), 'bad_request');

    const routing = new LazyRoutingRequest(this.#request.headers, prepared.value.body);
    const res = this.#reply.raw;
    res.on('close', this.#onClientClose);
    if (res.destroyed) this.#clientGone = true;
    const totalMs = ctx.config.requestTimeoutMs;
    if (totalMs !== undefined) this.#deadline = setTimeout(onRequestTimeout, totalMs, this);
    let last: End | undefined;
    for (;;) {
      this.#attempt += 1;
      const tried = await this.#attemptOnce(prepared.value, routing, last);
      if (tried.retry === undefined) return tried.end;
      last = tried.end;
      const { leg, reason, worker } = tried.retry;
      if (!this.#mayRetry()) {
        ctx.retryMetrics.exhausted(leg);
        return tried.end;
      }
      ctx.retryMetrics.retry(leg, reason);
      this.#trace?.retry(leg, reason);
      this.#failed ??= new Set();
      this.#failed.add(worker);
      const retry = ctx.config.retry;
      if (retry !== undefined) await this.#sleep(backoffMs(retry, this.#attempt, Math.random));
      if (this.#clientGone) return this.#clientAbort('prefill');
      if (this.#requestTimedOut) return this.#answer(this.#requestTimeoutError(), 'request_timeout');
    }
  }

  /**
   * One try: pick a pair (avoiding workers that failed this request when others exist), name it,
   * run the legs. Returns the answer, or (`retry`) a failure that sent the client nothing and that
   * a new attempt may replace; `end` is then what the client would get (answered only if no retry follows).
   */
  async #attemptOnce(
    prepared: PreparedRequest,
    routing: LazyRoutingRequest,
    last: End | undefined,
  ): Promise<{
    readonly end: End;
    readonly retry?: RetryableFailure;
    readonly legs?: RequestLegs;
    readonly refusal?: ServerError | undefined;
  }> {
    const ctx = this.#ctx;
    const registry = ctx.registry;
    const failed = this.#failed;
    const trace = this.#trace;
    const routedAt = trace === undefined ? 0 : performance.now();
    const choice = ctx.selector.select(
      excluding(registry.available('prefill'), failed),
      excluding(registry.available('decode'), failed),
      routing,
      this.#attempt > 1,
    );
    if (trace !== undefined) traceRouting(trace, routedAt, choice);
    if ('empty' in choice) {
      // A retry that finds a pool emptied (its breaker opened) ends with the failure that led there.
      if (last !== undefined && this.#legs !== undefined)
        return { end: this.#conclude(this.#legs, undefined) };
      const code = choice.empty === 'prefill' ? 'PD_ERR_NO_PREFILL_WORKER' : 'PD_ERR_NO_DECODE_WORKER';
      return {
        end: this.#answer(
          new ServerError(code, `no healthy ${choice.empty} worker is available`),
          'no_worker',
        ),
      };
    }
    // pd_aware decode-first: the decode alone computes the prompt (no prefill leg, no KV transfer).
    const decodeOnly = choice.decodeOnly === true ? ctx.connector.decodeOnlyBody?.(prepared) : undefined;
    const prefill = registry.resolve(choice.prefill);
    const decode = registry.resolve(choice.decode);
    registry.acquire(prefill);
    registry.acquire(decode);
    if (decodeOnly === undefined) prefill.metrics.decision(choice.reasons?.prefill);
    decode.metrics.decision(choice.reasons?.decode);
    const requestId = ctx.connector.requestId(prefill.address, decode.address, ctx.random16());
    // A new id per attempt: under P2P NCCL it names the pair the KV goes to.
    const legs = new RequestLegs(
      ctx.legs,
      this.#reply,
      this.#route.path,
      { prefill, decode, requestId },
      this.#request.log,
      ctx.metrics,
      this.#retryStatus,
      ctx.selector.release === undefined ? undefined : (worker) => ctx.selector.release?.(worker, routing),
    );
    this.#legs = legs;
    legs.trace = trace;
    if (this.#clientGone) legs.abort(CLIENT_LEFT);
    if (this.#requestTimedOut) legs.expire(this.#requestTimeoutError());
    let refusal: ServerError | undefined;
    try {
      if (decodeOnly === undefined) refusal = await ctx.connector.run(prepared, legs);
      else {
        // The prefill was acquired with the pair and is released unstarted below.
        ctx.metrics.decodeFirst();
        await legs.relay(decodeOnly).result;
      }
    } finally {
      legs.releaseUnstarted();
    }
    const retry = this.#retryable(legs);
    // Answered now unless a retry follows (then #run answers the last failure, or the next try).
    if (retry !== undefined && this.#mayRetry())
      return { end: { status: 0, outcome: 'decode_failed' }, retry, legs, refusal };
    return { end: this.#conclude(legs, refusal), ...(retry === undefined ? {} : { retry, legs, refusal }) };
  }

  /**
   * The attempt's failure when a retry may replace it (docs/retries.md): a leg that failed before
   * any byte reached the client, refused or reset before an answer, a 429/502/503/504, or a budget
   * spent before the answer's headers. A prefill that failed means no decode was sent for it.
   */
  #retryable(legs: RequestLegs): RetryableFailure | undefined {
    if (legs.abortReason !== undefined) return undefined;
    const relay = legs.relaySent ? legs.relayLeg?.outcome : undefined;
    if (relay !== undefined) {
      if (relay.end !== 'failed' || relay.failure === undefined) return undefined;
      const reason = retryReason(relay.failure.kind, relay.status, relay.status !== 0);
      return reason === undefined ? undefined : { leg: 'decode', reason, worker: legs.decode };
    }
    const collect = legs.collectLeg?.outcome;
    if (collect?.end !== 'failed' || collect.failure === undefined) return undefined;
    const reason = retryReason(collect.failure.kind, collect.status, collect.status !== 0);
    return reason === undefined ? undefined : { leg: 'prefill', reason, worker: legs.prefill };
  }

  /** The answer, from the legs' outcomes: the decode's when it ran, else why it did not. */
  #conclude(legs: RequestLegs, refusal: ServerError | undefined): End {
    // A decode leg started after the client left sent nothing: as if never started.
    const decode = legs.relaySent ? legs.relayLeg?.outcome : undefined;
    if (this.#requestTimedOut && decode?.end !== 'ok' && !this.#clientGone) {
      // The request's own cap: mid-stream the relay ended it with the error event.
      if (decode !== undefined && decode.ttfbMs >= 0)
        return { status: decode.status, outcome: 'request_timeout', code: 'PD_ERR_REQUEST_TIMEOUT' };
      return this.#answer(this.#requestTimeoutError(), 'request_timeout');
    }
    if (decode !== undefined) {
      const { status, failure } = decode;
      switch (decode.end) {
        case 'ok':
          // A relayed 4xx is the client's mistake (an unknown model): not ok, not a worker failure.
          return {
            status,
            outcome: status >= 500 ? 'upstream_error' : status >= 400 ? 'client_error' : 'ok',
          };
        case 'broken':
          return { status, outcome: 'stream_failed', code: failure?.error.code, detail: decode.detail };
        case 'client_stalled':
          return { status: CLIENT_CLOSED_STATUS, outcome: 'client_stalled' };
        case 'failed':
          if (failure !== undefined && legs.abortReason === undefined)
            return this.#answer(this.#withKvHint(legs, failure.error), 'decode_failed');
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
    return this.#answer(error, error.code === 'PD_ERR_PREFILL_REJECTED' ? 'client_error' : 'prefill_failed');
  }

  /**
   * A P2P NCCL decode that sent nothing within its budget is most often one whose KV never came
   * under the id it waits for (vLLM >= 0.14 randomizes request ids unless told not to, vllm#27987):
   * the error and a log line say so, instead of a bare timeout.
   */
  #withKvHint(legs: RequestLegs, error: ServerError): ServerError {
    if (error.code !== 'PD_ERR_DECODE_TIMEOUT' || this.#ctx.connector.name !== 'p2p-nccl') return error;
    legs.warn(
      { decode: legs.decode.url, prefill: legs.prefill.url, hint: P2P_KV_HINT },
      'P2P NCCL decode sent no first byte: its KV cache may never have arrived',
    );
    return new ServerError(error.code, `${error.message}; ${P2P_KV_HINT}`, { cause: error.cause });
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
    this.#trace?.end(end.status, end.outcome, end.code, legs?.requestId);
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

/** The routing decision's span (tracing on). */
function traceRouting(
  trace: RequestTrace,
  startedAt: number,
  choice: PairChoice | { readonly empty: 'prefill' | 'decode' },
): void {
  if ('empty' in choice) {
    trace.routing(startedAt, { empty: choice.empty, decodeOnly: false });
    return;
  }
  trace.routing(startedAt, {
    prefill: choice.prefill.url,
    decode: choice.decode.url,
    prefillReason: choice.reasons?.prefill,
    decodeReason: choice.reasons?.decode,
    decodeOnly: choice.decodeOnly === true,
  });
}
