/**
 * What the NIXL connector did for one request, kept in `received[i].nixl` so tests can assert the path.
 *
 * Prefill paths:
 * - `prefill-held`: answered `kv_transfer_params` and holds the blocks for a decode to read.
 * - `prefill-no-blocks`: answered params with empty `remote_block_ids` (prompt shorter than one block).
 * - `prefill-no-params`: asked for a remote decode, but answered `kv_transfer_params: null` (the request
 *   did not end length-capped, e.g. EOS first, or the `nixl-no-params` fault).
 * - `prefill-bad-params`: held the blocks but answered params without `remote_engine_id` (fault).
 * - `prefill-not-held`: answered params but dropped the blocks (fault `kv-never-arrives`).
 * - `prefill-plain`: no `do_remote_decode`: a plain request, answered without params.
 *
 * Decode paths:
 * - `decode-read`: read the blocks from the prefill's side channel; no prefill work on this instance.
 * - `decode-no-blocks`: valid params with no blocks (short prompt): a local prefill, not a failure.
 * - `decode-recompute`: the params could not be used; the decode prefilled locally (`reason` says why).
 */
export type NixlPath =
  | 'prefill-held'
  | 'prefill-no-blocks'
  | 'prefill-no-params'
  | 'prefill-bad-params'
  | 'prefill-not-held'
  | 'prefill-plain'
  | 'decode-read'
  | 'decode-no-blocks'
  | 'decode-recompute';

/** Why a decode recomputed (the `reason` label of `vllm:nixl_recomputes_total`). */
export type NixlRecomputeReason =
  /** No `kv_transfer_params`, or no truthy `do_remote_prefill` in them. */
  | 'missing_params'
  /** `do_remote_prefill` and blocks, but a field missing or mistyped (vLLM: "invalid KVTransferParams"). */
  | 'invalid_params'
  /** `remote_host` is not `localhost` or 127.0.0.0/8: the mock never connects off the machine. */
  | 'remote_host_not_loopback'
  /** The prefill holds nothing under `remote_request_id` (never held, already read, or dropped). */
  | 'read_not_found'
  /** The prefill held them, but its block TTL ran out first. */
  | 'read_expired'
  /** The instance at `remote_host:remote_port` has another engine id (a foreign `remote_engine_id`). */
  | 'read_engine_mismatch'
  /** `remote_block_ids` differ from the blocks the prefill holds for that request. */
  | 'read_block_mismatch'
  /** The prefill's side channel refused the read (fault `nixl-refuse-reads`). */
  | 'read_refused'
  /** No answer from `remote_host:remote_port` within `nixlReadTimeoutMs` (nothing listening there). */
  | 'read_timeout';

export const NIXL_RECOMPUTE_REASONS: readonly NixlRecomputeReason[] = [
  'missing_params',
  'invalid_params',
  'remote_host_not_loopback',
  'read_not_found',
  'read_expired',
  'read_engine_mismatch',
  'read_block_mismatch',
  'read_refused',
  'read_timeout',
];

/** What a prefill's side channel answers to a read (`ok` frees the blocks). */
export type NixlReadResult =
  | 'ok'
  | 'not-found'
  | 'expired'
  | 'engine-mismatch'
  | 'block-mismatch'
  | 'refused';

export const NIXL_READ_RESULTS: readonly NixlReadResult[] = [
  'ok',
  'not-found',
  'expired',
  'engine-mismatch',
  'block-mismatch',
  'refused',
];

export interface NixlRecord {
  readonly path: NixlPath;
  /** Set on `decode-recompute`. */
  readonly reason?: NixlRecomputeReason;
  /** Prefill: the id it holds the blocks under; decode: the `remote_request_id` it was given. */
  readonly remoteRequestId?: string;
  /** Prefill: the blocks it holds (or answered); decode: the `remote_block_ids` it was given. */
  readonly blockIds?: readonly number[];
}

/** A read a decode sends to a prefill's side channel. */
export interface NixlReadRequest {
  readonly engineId: string;
  readonly requestId: string;
  readonly blockIds: readonly number[];
}
