/**
 * What the Mooncake connector did for one request, kept in `received[i].mooncake` so tests can assert
 * the path.
 *
 * Prefill paths:
 * - `prefill-held`: finished length-capped with `do_remote_decode` and a `transfer_id`; the KV is held
 *   under (its rank's engine id, `transfer_id`) until a decode pulls it or the abort timeout passes.
 * - `prefill-not-capped`: asked for a remote decode but did not end length-capped (EOS first): nothing
 *   is held, as vLLM's `request_finished` marks it not processed.
 * - `prefill-invalid-params`: `do_remote_decode` without a `transfer_id` (vLLM: "Got invalid
 *   KVTransferParams ... will not utilize KVTransfer").
 * - `prefill-dropped`: fault `kv-never-arrives`: the KV is never made available.
 * - `prefill-plain`: no `do_remote_decode`: a plain request.
 *
 * Decode paths:
 * - `decode-pulled`: the prefill sent the KV; no prefill work on this instance.
 * - `decode-local`: no usable `do_remote_prefill` params: the decode prefills itself (`reason` says why).
 * - `decode-failed`: the transfer failed (`reason`); vLLM's decode then never finishes the request.
 */
export type MooncakePath =
  | 'prefill-held'
  | 'prefill-not-capped'
  | 'prefill-invalid-params'
  | 'prefill-dropped'
  | 'prefill-plain'
  | 'decode-pulled'
  | 'decode-local'
  | 'decode-failed';

/** Why a decode's transfer failed, or why it prefilled locally (the `reason` label of the metrics). */
export type MooncakeReason =
  /** No `kv_transfer_params`, or no truthy `do_remote_prefill`: a plain request. */
  | 'missing_params'
  /** `do_remote_prefill` without `remote_engine_id`, `remote_bootstrap_addr` or `transfer_id`. */
  | 'invalid_params'
  /** `remote_bootstrap_addr` or the worker address is not loopback: the mock never leaves the machine. */
  | 'not_loopback'
  /** `GET {remote_bootstrap_addr}/query` failed (refused, reset, non-2xx, not JSON, 5 s timeout). */
  | 'bootstrap_unreachable'
  /** The bootstrap server answered, without `remote_engine_id` among its ranks. */
  | 'engine_not_found'
  /** The prefill held no KV under that engine and `transfer_id` within its abort timeout. */
  | 'transfer_timeout'
  /** Nothing answered on the worker address. */
  | 'side_channel_timeout';

export const MOONCAKE_FAILURE_REASONS: readonly MooncakeReason[] = [
  'not_loopback',
  'bootstrap_unreachable',
  'engine_not_found',
  'transfer_timeout',
  'side_channel_timeout',
];

export interface MooncakeRecord {
  readonly path: MooncakePath;
  readonly reason?: MooncakeReason;
  /** Prefill: the DP rank that served it (`X-data-parallel-rank`). */
  readonly rank?: number;
  /** Prefill: its rank's engine id; decode: the `remote_engine_id` it was given. */
  readonly engineId?: string;
  readonly transferId?: string;
  /** Decode: the `remote_bootstrap_addr` it was given. */
  readonly bootstrapAddr?: string;
}
