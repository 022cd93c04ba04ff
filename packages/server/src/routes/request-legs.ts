import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Leg, LegRun } from '../connectors/types.js';
import type { ServerError } from '../errors.js';
import type { RouterMetrics } from '../metrics.js';
import { Relay } from '../stream/relay.js';
import type { RequestTrace } from '../tracing/index.js';
import { CollectLeg, type CollectResult } from '../upstream/collect-leg.js';
import type { LegEnv } from '../upstream/leg.js';
import type { Worker } from '../workers/worker.js';

/**
 * The legs of one request, as a connector's `run` sees them (LegRun): starts each leg at most
 * once, aborts whatever is in flight when the client leaves, and keeps the legs so the exchange
 * can read their outcomes once `run` is done. Each started leg frees its own worker when it
 * settles; `releaseUnstarted` frees the workers of legs that never ran.
 */
export class RequestLegs implements LegRun {
  readonly prefill: Worker;
  readonly decode: Worker;
  readonly requestId: string;
  readonly metrics: RouterMetrics;
  readonly debug: LegRun['debug'];
  collectLeg: CollectLeg | undefined;
  relayLeg: Relay | undefined;
  /** Whether the decode leg was sent (started before any abort). */
  relaySent = false;
  /** Why the legs were aborted (the client left); legs started afterwards are aborted at once. */
  abortReason: Error | undefined;
  /** Tracing on: each leg gets a child span of the request's (set by the exchange). */
  trace: RequestTrace | undefined;
  readonly #env: LegEnv;
  readonly #reply: FastifyReply;
  readonly #path: string;
  readonly #log: FastifyBaseLogger;
  readonly #retryStatus: ((status: number) => boolean) | undefined;
  readonly #onSettled: ((worker: Worker) => void) | undefined;

  constructor(
    env: LegEnv,
    reply: FastifyReply,
    path: string,
    pair: { readonly prefill: Worker; readonly decode: Worker; readonly requestId: string },
    log: FastifyBaseLogger,
    metrics: RouterMetrics,
    retryStatus?: (status: number) => boolean,
    /** Told when each worker's part of the request is over (started or not): the policy's release. */
    onSettled?: (worker: Worker) => void,
  ) {
    this.#retryStatus = retryStatus;
    this.#onSettled = onSettled;
    this.#env = env;
    this.#reply = reply;
    this.#path = path;
    this.#log = log;
    this.prefill = pair.prefill;
    this.decode = pair.decode;
    this.requestId = pair.requestId;
    this.metrics = metrics;
    this.debug = env.debug
      ? (fields, message) => log.debug({ requestId: this.requestId, ...fields }, message)
      : undefined;
  }

  collect(
    body: string,
    keepBytes: number,
    header?: readonly [name: string, value: string],
  ): Leg<CollectResult> {
    if (this.collectLeg !== undefined) throw new Error('the prefill leg was already started');
    const span = this.trace?.leg('prefill', this.prefill.url, this.requestId);
    const leg = new CollectLeg(
      this.#env,
      {
        worker: this.prefill,
        path: this.#path,
        requestId: this.requestId,
        body,
        header,
        trace: span?.headers,
      },
      keepBytes,
    );
    this.collectLeg = leg;
    if (span !== undefined)
      void leg.result.then((r) =>
        span.end({ end: r.end, status: r.status, code: r.failure?.error.code, ttfbMs: -1 }),
      );
    if (this.#onSettled !== undefined) void leg.result.then(() => this.#onSettled?.(this.prefill));
    if (this.abortReason === undefined) leg.start();
    else leg.abort(this.abortReason);
    return leg;
  }

  relay(body: string): Relay {
    if (this.relayLeg !== undefined) throw new Error('the decode leg was already started');
    const span = this.trace?.leg('decode', this.decode.url, this.requestId);
    const leg = new Relay(this.#env, this.#reply, {
      worker: this.decode,
      path: this.#path,
      requestId: this.requestId,
      body,
      retryStatus: this.#retryStatus,
      trace: span?.headers,
    });
    this.relayLeg = leg;
    if (span !== undefined)
      void leg.result.then((r) =>
        span.end({ end: r.end, status: r.status, code: r.failure?.error.code, ttfbMs: r.ttfbMs }),
      );
    if (this.#onSettled !== undefined) void leg.result.then(() => this.#onSettled?.(this.decode));
    this.relaySent = this.abortReason === undefined;
    if (this.relaySent) leg.start();
    else leg.abort(this.abortReason ?? new Error('aborted'));
    return leg;
  }

  prefillBadAnswer(): void {
    this.#env.registry.reportFailure(this.prefill, 'bad_response');
  }

  warn(fields: Record<string, unknown>, message: string): void {
    this.#log.warn({ requestId: this.requestId, ...fields }, message);
  }

  /** Aborts every leg in flight, and any started later. */
  abort(reason: Error): void {
    this.abortReason ??= reason;
    if (this.collectLeg?.outcome === undefined) this.collectLeg?.abort(reason);
    if (this.relayLeg?.outcome === undefined) this.relayLeg?.abort(reason);
  }

  /**
   * `--request-timeout-secs` ran out: the prefill in flight is aborted, the decode ends with
   * `error` (its event, mid-stream), and no leg starts afterwards.
   */
  expire(error: ServerError): void {
    this.abortReason ??= error;
    this.collectLeg?.abort(error);
    this.relayLeg?.endWith(error);
  }

  /** Frees the workers of legs that never started (the others free theirs when they settle). */
  releaseUnstarted(): void {
    if (this.collectLeg === undefined) {
      this.#env.registry.release(this.prefill);
      this.#onSettled?.(this.prefill);
    }
    if (this.relayLeg === undefined) {
      this.#env.registry.release(this.decode);
      this.#onSettled?.(this.decode);
    }
  }
}
