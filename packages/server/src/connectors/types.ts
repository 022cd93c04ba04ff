import type { CoreError, PyObject, Result, WorkerAddress } from '@pd-router/core';
import type { KvConnectorName } from '../config/types.js';
import type { ServerError } from '../errors.js';
import type { UpstreamHeaderName } from '../upstream/headers.js';
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

/**
 * How a KV connector shapes the two legs. The flow is the same for every connector: parse once,
 * pick P and D, make the id, send P `prefill` (with the connector's header order), read P's answer, send D `decodeBody(...)`, relay.
 * P2P NCCL drains the prefill's answer; NIXL reads `kv_transfer_params` from it
 * (`readsPrefillAnswer`) and builds the decode body from them. Another connector (Mooncake,
 * LMCache) is one more implementation of this interface; the flow does not change.
 */
export interface KvConnector {
  readonly name: KvConnectorName;
  /**
   * The order of the upstream request headers: its reference proxy's, so that every byte a vLLM
   * worker sees is what that proxy sends (the set is the same for every connector).
   */
  readonly headerOrder: readonly UpstreamHeaderName[];
  /** Whether the flow must keep the prefill's answer body (else it is drained and discarded). */
  readonly readsPrefillAnswer: boolean;
  /** The largest prefill answer kept when `readsPrefillAnswer`: a larger one fails the request. */
  readonly prefillAnswerLimitBytes: number;
  /** Parses the client's bytes (once) and builds the prefill body; a request it cannot serve is a 4xx. */
  prepare(raw: Uint8Array): Result<PreparedRequest, CoreError | ServerError>;
  /** The X-Request-Id sent on both legs. */
  requestId(prefill: WorkerAddress, decode: WorkerAddress, random16: Uint8Array): string;
  /**
   * The decode request; `prefillAnswer` is the prefill's (decoded) body when `readsPrefillAnswer`,
   * `prefill` the address of the prefill worker that answered.
   */
  decodeBody(
    request: PreparedRequest,
    prefillAnswer: Uint8Array | undefined,
    prefill: WorkerAddress,
  ): Result<DecodeRequest, ServerError>;
}
