import type { Dispatcher } from 'undici';
import type { ServerError } from '../errors.js';
import type { UpstreamErrorKind } from '../metrics.js';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';
import { withRequest } from './headers.js';
import { classifyUpstreamError, errorDetail, legError } from './map-error.js';

/**
 * Our own timers (exact, setTimeout) enforce the leg budgets. undici's headersTimeout and
 * bodyTimeout run on its 499 ms "fast timer" ticks and can fire up to ~0.5 s early (or late), so
 * they are only a backstop this much beyond the budget, and never decide a timeout's outcome.
 */
export const UNDICI_BACKSTOP_MS = 1_000;

/** The deadlines of a request's legs (config: --prefill-timeout-ms and the decode budgets). */
export interface LegBudgets {
  /** A collect leg (the prefill): connecting, queueing, headers and the whole body, together. */
  readonly collectMs: number;
  /** A relay leg (the decode): from the request to the first body byte, headers or not. */
  readonly firstByteMs: number;
  /** A relay leg after its first byte: the longest upstream silence. */
  readonly idleMs: number;
  /** A relay leg: the longest time the client may leave written data unread before it is dropped. */
  readonly stallMs: number;
}

/** What every leg of a router shares, built once. */
export interface LegEnv {
  readonly registry: WorkerRegistry;
  readonly budgets: LegBudgets;
  /** Debug logging: client-facing messages name worker addresses and error details. */
  readonly debug: boolean;
  /** Relay vLLM's answer ids unchanged (`--keep-vllm-response-id`); else P2P NCCL ids lose their addresses. */
  readonly keepVllmResponseId?: boolean;
}

/** One upstream call of a request. */
export interface LegRequest {
  readonly worker: Worker;
  /** The upstream path (the route's own). */
  readonly path: string;
  readonly requestId: string;
  /** The body; ASCII (json.dumps' ensure_ascii), so its length is its byte count. */
  readonly body: string;
  /** Relay legs: whether an answer with this status is dropped unrelayed, for a retry to replace. */
  readonly retryStatus?: ((status: number) => boolean) | undefined;
  /** One more header, right after `X-Request-Id` (Mooncake's prefill: `X-data-parallel-rank`). */
  readonly header?: readonly [name: string, value: string] | undefined;
  /** Tracing on: `traceparent` (and `tracestate`) as [name, value, ...], after the reference's set. */
  readonly trace?: readonly string[] | undefined;
}

/**
 * An answer already being relayed sent nothing for the idle budget (the relay's own timer: undici's
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

/**
 * A leg's failure: what went wrong (classified once, as counted against the worker) and the coded
 * error a client gets for it when nothing was sent yet.
 */
export interface LegFailure {
  readonly kind: UpstreamErrorKind;
  readonly error: ServerError;
}

/** Names a worker for clients: its ordinal, or its address at debug level. */
export function workerName(env: LegEnv, worker: Worker): string {
  return env.debug ? `${worker.label} (${worker.url})` : worker.label;
}

/**
 * The failure of a leg whose transport failed before its answer could be used: a timeout when the
 * leg's own budget ran out, else the error's kind (refused, reset...). The worker is charged with it.
 */
export function transportFailure(
  env: LegEnv,
  worker: Worker,
  timedOut: boolean,
  error: unknown,
  budgetMs: number,
): LegFailure {
  const kind: UpstreamErrorKind = timedOut ? 'timeout' : classifyUpstreamError(error);
  const detail = env.debug ? ` (${errorDetail(error)})` : '';
  return { kind, error: legError(worker.role, workerName(env, worker), kind, budgetMs, detail, error) };
}

/**
 * Base of our undici dispatch handlers. undici hands over the request's controller only once the
 * request is written to a socket; an abort before that is remembered and applied then, so a
 * request still queued in the pool is never sent.
 */
export abstract class UpstreamHandler implements Dispatcher.DispatchHandler {
  protected controller: Dispatcher.DispatchController | undefined;
  #pendingAbort: Error | undefined;

  /** Cancels the upstream request and settles this leg as aborted at once (nothing is reported). */
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

  /** Settles the leg's own outcome on abort, without waiting for undici to report it. */
  protected abstract aborted(reason: Error): void;

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.#pendingAbort !== undefined) controller.abort(this.#pendingAbort);
  }

  /** Sends the request with this handler; `headersTimeoutMs` and `bodyTimeoutMs` are undici's backstops. */
  protected dispatch(request: LegRequest, headersTimeoutMs: number, bodyTimeoutMs: number): void {
    const { worker, body, header, trace } = request;
    const headers = withRequest(worker.headers, request.requestId, body.length);
    if (header !== undefined) headers.splice(worker.headers.requestIdIndex + 1, 0, header[0], header[1]);
    if (trace !== undefined) headers.push(...trace);
    worker.pool.dispatch(
      {
        method: 'POST',
        path: request.path,
        headers,
        body,
        headersTimeout: headersTimeoutMs,
        bodyTimeout: bodyTimeoutMs,
      },
      this,
    );
  }
}
