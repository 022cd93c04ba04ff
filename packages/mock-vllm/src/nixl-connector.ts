import type { CompletionRequest } from './completion-request.js';
import type { FaultBook, RequestFaults } from './fault-book.js';
import type { GenerationPlan } from './generation-plan.js';
import type { MockMetrics } from './metrics.js';
import { NixlBlockStore } from './nixl-block-store.js';
import {
  checkDecodeParams,
  loopbackHost,
  nixlBlockCount,
  prefillKvTransferParams,
  wantsRemoteDecode,
} from './nixl-params.js';
import {
  NIXL_READ_RESULTS,
  type NixlReadRequest,
  type NixlReadResult,
  type NixlRecomputeReason,
  type NixlRecord,
} from './nixl-types.js';
import type { ResolvedOptions } from './options.js';
import type { JsonValue } from './request-body.js';
import { type SideChannelRead, ZmqSideChannel } from './side-channel.js';

/** What a read can end with on the decode side, besides the prefill's own answer. */
type NixlReadOutcome = NixlReadResult | 'timeout' | 'aborted';

/** Requests a prefill holds blocks for at most (a router that never sends decodes cannot exhaust memory). */
const MAX_HELD_REQUESTS = 100_000;

/** One NIXL instance's connector state: its side channel and the blocks it holds. */
export interface NixlState {
  readonly engineId: string;
  readonly channel: ZmqSideChannel;
  readonly blocks: NixlBlockStore;
  /** `remote_host` and `remote_port` this instance's prefill answers carry. */
  readonly host: string;
  readonly port: number;
  readonly readTimeoutMs: number;
  /** Decode requests reading from a prefill right now (they count as waiting, as WAITING_FOR_REMOTE_KVS). */
  reading: number;
}

/**
 * Binds the side channel on the KV port and sets up the block store. Reads are answered from the
 * store unless a `nixl-refuse-reads` fault is active; every answer is counted.
 */
export async function startNixl(
  o: ResolvedOptions,
  metrics: MockMetrics,
  faults: FaultBook,
): Promise<NixlState> {
  const blocks = new NixlBlockStore({
    engineId: o.nixlEngineId,
    ttlMs: o.nixlBlockTtlMs,
    maxHeld: MAX_HELD_REQUESTS,
    onExpire: (requests, count) => {
      metrics.nixlExpiredRequests += requests;
      metrics.nixlExpiredBlocks += count;
    },
  });
  const channel = await ZmqSideChannel.bind(o.host, o.kvPort, (message) => {
    const read = toReadRequest(message);
    const result: NixlReadResult =
      read === undefined ? 'not-found' : faults.takeReadRefusal() ? 'refused' : blocks.take(read);
    metrics.nixlReadsServed.set(result, (metrics.nixlReadsServed.get(result) ?? 0) + 1);
    return result;
  });
  return {
    engineId: o.nixlEngineId,
    channel,
    blocks,
    host: o.nixlSideChannelHost,
    port: o.nixlSideChannelPort ?? channel.port,
    readTimeoutMs: o.nixlReadTimeoutMs,
    reading: 0,
  };
}

/** A read's fields as the side channel received them, or undefined when one is missing or mistyped. */
function toReadRequest(message: SideChannelRead): NixlReadRequest | undefined {
  const engineId = message['engine_id'];
  const requestId = message['request_id'];
  const blockIds = message['block_ids'];
  const valid =
    typeof engineId === 'string' &&
    typeof requestId === 'string' &&
    Array.isArray(blockIds) &&
    blockIds.every((b) => typeof b === 'number');
  return valid ? { engineId, requestId, blockIds: blockIds as number[] } : undefined;
}

export async function stopNixl(nixl: NixlState): Promise<void> {
  nixl.blocks.close();
  await nixl.channel.close();
}

/** A prefill request's plan as NIXL changes it: the `nixl-no-params` fault makes the first token EOS. */
export function nixlPrefillPlan(
  plan: GenerationPlan,
  request: CompletionRequest,
  faults: RequestFaults,
): GenerationPlan {
  if (faults.nixlNoParams !== true || !wantsRemoteDecode(request.kvTransferParams)) return plan;
  return { ...plan, tokens: 1, completionTokens: plan.choices.length, finishReason: 'stop' };
}

export interface PrefillSettlement {
  /** The answer's `kv_transfer_params` (null: none). */
  readonly params: { [key: string]: JsonValue } | null;
  readonly record: NixlRecord;
}

/**
 * What a prefill does when its request finishes (vLLM's `request_finished`): with `do_remote_decode`
 * and a length-capped finish, it pins the full blocks of each prompt and returns the first prompt's
 * params (vLLM's completion answer carries only `final_res_batch[0]`'s); otherwise it returns null.
 * Called before the answer is written, so a fast decode never reads before the blocks are held.
 */
export function settlePrefill(
  nixl: NixlState,
  request: CompletionRequest,
  plan: GenerationPlan,
  engineIds: readonly string[],
  faults: RequestFaults,
): PrefillSettlement {
  if (!wantsRemoteDecode(request.kvTransferParams))
    return { params: null, record: { path: 'prefill-plain' } };
  if (plan.finishReason !== 'length') return { params: null, record: { path: 'prefill-no-params' } };
  // Engine ids follow the distinct prompts in order (see engineRequestIds).
  const prompts = [...new Set(plan.choices.map((c) => c.prompt))];
  let first: readonly number[] = [];
  for (const [i, id] of engineIds.entries()) {
    const blockIds = nixl.blocks.allocate(nixlBlockCount(prompts[i]?.tokens ?? 0));
    if (i === 0) first = blockIds;
    if (faults.kvNeverArrives !== true) nixl.blocks.hold(id, blockIds);
  }
  const requestId = engineIds[0] ?? plan.id;
  const params = prefillKvTransferParams({
    blockIds: first,
    engineId: nixl.engineId,
    requestId,
    host: nixl.host,
    port: nixl.port,
    omitEngineId: faults.nixlBadParams === true,
  });
  const path =
    first.length === 0
      ? 'prefill-no-blocks'
      : faults.kvNeverArrives === true
        ? 'prefill-not-held'
        : faults.nixlBadParams === true
          ? 'prefill-bad-params'
          : 'prefill-held';
  return { params, record: { path, remoteRequestId: requestId, blockIds: first } };
}

const READ_FAILURE: Readonly<Record<Exclude<NixlReadOutcome, 'ok' | 'aborted'>, NixlRecomputeReason>> = {
  'not-found': 'read_not_found',
  expired: 'read_expired',
  'engine-mismatch': 'read_engine_mismatch',
  'block-mismatch': 'read_block_mismatch',
  refused: 'read_refused',
  timeout: 'read_timeout',
};

export interface DecodeTransfer {
  /** True when the KV came from the prefill: the decode skips the prefill cost. */
  readonly loaded: boolean;
  readonly record: NixlRecord;
}

/**
 * A decode request's transfer: checks its `kv_transfer_params` as the connector does, then reads the
 * blocks from the prefill's side channel. Anything that prevents the read makes the decode prefill
 * locally (a recompute, counted by reason), as the issue asks; vLLM's own default for a failed load
 * is `kv_load_failure_policy: fail`.
 */
export async function nixlDecodeTransfer(
  nixl: NixlState,
  metrics: MockMetrics,
  params: JsonValue | undefined,
  signal: AbortSignal,
): Promise<DecodeTransfer | 'aborted'> {
  const check = checkDecodeParams(params);
  const recompute = (
    reason: NixlRecomputeReason,
    record: Omit<NixlRecord, 'path' | 'reason'> = {},
  ): DecodeTransfer => {
    metrics.nixlRecomputes.set(reason, (metrics.nixlRecomputes.get(reason) ?? 0) + 1);
    return { loaded: false, record: { path: 'decode-recompute', reason, ...record } };
  };
  if (check.kind === 'missing') return recompute('missing_params');
  if (check.kind === 'invalid') return recompute('invalid_params');
  if (check.kind === 'no-blocks') return { loaded: false, record: { path: 'decode-no-blocks' } };
  const remote = check.params;
  const given = { remoteRequestId: remote.requestId, blockIds: remote.blockIds };
  const host = loopbackHost(remote.host);
  if (host === undefined) return recompute('remote_host_not_loopback', given);
  nixl.reading += 1;
  let outcome: NixlReadOutcome;
  try {
    const answer = await nixl.channel.read(
      host,
      remote.port,
      { engine_id: remote.engineId, request_id: remote.requestId, block_ids: remote.blockIds },
      nixl.readTimeoutMs,
      signal,
    );
    outcome =
      answer === 'timeout' || answer === 'aborted'
        ? answer
        : (NIXL_READ_RESULTS.find((r) => r === answer) ?? 'not-found');
  } finally {
    nixl.reading -= 1;
  }
  if (outcome === 'aborted') return 'aborted';
  if (outcome === 'ok') {
    metrics.nixlReads += 1;
    return { loaded: true, record: { path: 'decode-read', ...given } };
  }
  return recompute(READ_FAILURE[outcome], given);
}
