import type { CoreError, PyObject, Result, WorkerAddress } from '@pd-router/core';
import type { KvConnectorName } from '../config/types.js';
import type { ServerError } from '../errors.js';
import type { RouterMetrics } from '../metrics.js';
import type { RelayResult } from '../stream/relay.js';
import type { CollectResult } from '../upstream/collect-leg.js';
import type { UpstreamHeaderName } from '../upstream/headers.js';
import type { Worker } from '../workers/worker.js';
import type { NixlRecomputeReason } from './nixl-params.js';

/** A client body parsed once, with what the prefill leg sends. */
export interface PreparedRequest {
  /** The parsed body (Python dict order), for routing keys and the decode body. */
  readonly body: PyObject;
  /** The prefill body. ASCII only (json.dumps' ensure_ascii), so its length is its byte count. */
  readonly prefill: string;
  /** The decode body when it does not depend on the prefill's answer (P2P NCCL). */
  readonly decode: string | undefined;
}

/** What the decode leg sends, and what the flow must count and log about it. */
export interface DecodeRequest {
  /** The decode body. ASCII only, so its length is its byte count. */
  readonly body: string;
  /**
   * Set when the decode goes without the prefill's KV (NIXL: no usable `kv_transfer_params`), so
   * the decode worker recomputes the prompt: counted in `pd_router_nixl_recomputes_total{reason}`
   * and logged at warn, never silent.
   */
  readonly recompute?: { readonly reason: NixlRecomputeReason; readonly detail: string };
  /** Set when NIXL's `remote_host` was rewritten to the prefill's host (`--nixl-rewrite-remote-host`). */
  readonly remoteHostRewrite?: { readonly from: string; readonly to: string };
}

/** A leg in flight: its result (resolved once, never rejected) and a way to give up on it. */
export interface Leg<R> {
  readonly result: Promise<R>;
  /** Cancels the upstream call; the leg resolves `aborted` at once and nothing is reported. */
  abort(reason: Error): void;
}

/**
 * What a connector's `run` gets: the request's pair and its two legs, started on demand. Each leg
 * owns its deadlines, classifies its failure once, reports it to the registry (which counts it)
 * and frees its worker when it settles; the exchange reads the legs' outcomes after `run`.
 * A leg started after the client left is aborted at once and sends nothing.
 */
export interface LegRun {
  readonly prefill: Worker;
  readonly decode: Worker;
  readonly requestId: string;
  /**
   * Starts the prefill as a collect leg: sends `body`, reads the whole answer within
   * --prefill-timeout-ms. `keepBytes` > 0 keeps the 2xx body (a larger one fails the leg).
   * At most once per request.
   */
  collect(
    body: string,
    keepBytes: number,
    header?: readonly [name: string, value: string],
  ): Leg<CollectResult>;
  /**
   * Starts the decode as a relay leg: sends `body` and relays the answer to the client as it
   * arrives (first-byte, idle and client-stall budgets). At most once per request.
   */
  relay(body: string): Leg<RelayResult> & { readonly started: boolean };
  /** The prefill's 2xx answer was unusable: counted against it (`bad_response`). */
  prefillBadAnswer(): void;
  /** Logs a note about the request at warn, with its id (what must not be silent). */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Logs at debug (bodies, details); undefined below debug level, so `legs.debug?.({...})` costs nothing. */
  readonly debug: ((fields: Record<string, unknown>, message: string) => void) | undefined;
  readonly metrics: RouterMetrics;
}

/**
 * How a KV connector drives a request. The exchange is the same for every connector: parse
 * once (`prepare`), pick P and D, make the id (`requestId`), then hand the legs to `run`, which
 * decides how they run:
 * - one after the other (P2P NCCL, NIXL: `runSequential` in sequential.ts): the prefill, and only
 *   after its 2xx the decode, built from its answer;
 * - together (e.g. Mooncake, which shares a transfer id): start `relay` and `collect` at once, and
 *   abort the other leg when one fails before the decode's first byte.
 *
 * `run` resolves once every leg it started has settled, with the reason it sent no decode when
 * the connector itself refused to (e.g. NIXL's unusable params with `fail`), else undefined; the
 * legs' own failures are read from their outcomes. Adding a connector is one file here plus its
 * case in index.ts; the exchange does not change.
 */
export interface KvConnector {
  readonly name: KvConnectorName;
  /**
   * The order of the upstream request headers: its reference proxy's, so that every byte a vLLM
   * worker sees is what that proxy sends (the set is the same for every connector).
   */
  readonly headerOrder: readonly UpstreamHeaderName[];
  /** Parses the client's bytes (once) and builds the prefill body; a request it cannot serve is a 4xx. */
  prepare(raw: Uint8Array): Result<PreparedRequest, CoreError | ServerError>;
  /**
   * `prepare` in slices (each `step(bytes)` scans about that much more; true when `result()` is
   * ready), for large bodies at intake. Absent: large bodies go through `prepare`.
   */
  prepareJob?(raw: Uint8Array): {
    step(bytes: number): boolean;
    result(): Result<PreparedRequest, CoreError | ServerError>;
  };
  /**
   * The body of a request sent to a decode worker alone (no prefill leg: the decode computes the
   * prompt). Absent when the connector cannot do that: under P2P NCCL a decode always waits for KV
   * pushed by a prefill (docs/routing.md).
   */
  readonly decodeOnlyBody?: (request: PreparedRequest) => string | undefined;
  /** The X-Request-Id sent on both legs. */
  requestId(prefill: WorkerAddress, decode: WorkerAddress, random16: Uint8Array): string;
  /** Runs the request's legs (see above). */
  run(request: PreparedRequest, legs: LegRun): Promise<ServerError | undefined>;
}

/** A connector whose decode body depends on the prefill's answer (both legs in sequence). */
export interface SequentialConnector extends KvConnector {
  /** The largest prefill answer kept (0: drained, never read): a larger one fails the request. */
  readonly prefillAnswerLimitBytes: number;
  /**
   * The decode request; `prefillAnswer` is the prefill's (decoded) body when kept, `prefill` the
   * address of the prefill worker that answered.
   */
  decodeBody(
    request: PreparedRequest,
    prefillAnswer: Uint8Array | undefined,
    prefill: WorkerAddress,
  ): Result<DecodeRequest, ServerError>;
}
