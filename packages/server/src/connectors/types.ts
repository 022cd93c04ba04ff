import type { CoreError, PyObject, Result, WorkerAddress } from '@pd-router/core';
import type { KvConnectorName } from '../config/types.js';
import type { ServerError } from '../errors.js';

/** A client body parsed once, with what the prefill leg sends. */
export interface PreparedRequest {
  /** The parsed body (Python dict order), for routing keys and the decode body. */
  readonly body: PyObject;
  /** The prefill body. ASCII only (json.dumps' ensure_ascii), so its length is its byte count. */
  readonly prefill: string;
  /** The decode body when it does not depend on the prefill's answer (P2P NCCL). */
  readonly decode: string | undefined;
}

/**
 * How a KV connector shapes the two legs. The flow is the same for every connector: parse once,
 * pick P and D, make the id, send P `prefill`, read P's answer, send D `decodeBody(...)`, relay.
 * P2P NCCL is the only implementation now; NIXL (issue 8) reads `kv_transfer_params` from the
 * prefill's answer, so it sets `readsPrefillAnswer` and builds the decode body from it.
 */
export interface KvConnector {
  readonly name: KvConnectorName;
  /** Whether the flow must keep the prefill's answer body (else it is drained and discarded). */
  readonly readsPrefillAnswer: boolean;
  /** Parses the client's bytes (once) and builds the prefill body. */
  prepare(raw: Uint8Array): Result<PreparedRequest, CoreError>;
  /** The X-Request-Id sent on both legs. */
  requestId(prefill: WorkerAddress, decode: WorkerAddress, random16: Uint8Array): string;
  /** The decode body; `prefillAnswer` is the prefill's body when `readsPrefillAnswer`. ASCII only. */
  decodeBody(request: PreparedRequest, prefillAnswer: Uint8Array | undefined): Result<string, ServerError>;
}
