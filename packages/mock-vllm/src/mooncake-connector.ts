import type { CompletionRequest } from './completion-request.js';
import type { FaultBook, RequestFaults } from './fault-book.js';
import type { GenerationPlan } from './generation-plan.js';
import type { MockMetrics } from './metrics.js';
import {
  type BootstrapServer,
  bootstrapQueryBody,
  loopbackEndpoint,
  queryBootstrap,
  startBootstrapServer,
} from './mooncake-bootstrap.js';
import { MooncakeSendTable } from './mooncake-send-table.js';
import type { MooncakeReason, MooncakeRecord } from './mooncake-types.js';
import { pyTruthy, wantsRemoteDecode } from './nixl-params.js';
import type { ResolvedOptions } from './options.js';
import type { JsonValue } from './request-body.js';
import { ZmqSideChannel } from './side-channel.js';

/** Held transfers and waiting pulls a prefill keeps at most (a router that never sends decodes cannot exhaust memory). */
const MAX_HELD_TRANSFERS = 100_000;
const MAX_WAITING_PULLS = 100_000;
/** Engine ids a decode remembers from bootstrap answers, at most. */
const MAX_KNOWN_ENGINES = 4_096;
/** A decode waits for the prefill's answer this much longer than the prefill's own abort timeout. */
const PULL_GRACE_MS = 60_000;
/** A prefill's answer to a pull whose KV did not come within its abort timeout. */
const NOT_READY = 'not_ready';

/** One Mooncake instance's connector state. */
export interface MooncakeState {
  /** Engine id per DP rank. */
  readonly engineIds: readonly string[];
  /** The side channel decodes pull from (a prefill's `worker_addr`), bound on the KV port. */
  readonly channel: ZmqSideChannel;
  readonly sends: MooncakeSendTable;
  /** Prefill only: its bootstrap server. */
  readonly bootstrap: BootstrapServer | undefined;
  readonly abortTimeoutMs: number;
  /** Decode: engine id → worker address, learnt from bootstrap servers (vLLM's `_remote_agents`). */
  readonly agents: Map<string, string>;
  /** Aborted by stop: ends the pulls a prefill holds. */
  readonly closing: AbortController;
  /** Decode requests pulling KV right now (they count as waiting, as WAITING_FOR_REMOTE_KVS). */
  pulling: number;
}

/** Binds the side channel on the KV port and, on a prefill, the bootstrap server. */
export async function startMooncake(
  o: ResolvedOptions,
  metrics: MockMetrics,
  faults: FaultBook,
): Promise<MooncakeState> {
  // Pulls wait on the prefill until its KV is ready; close() ends them through this signal.
  const closing = new AbortController();
  const sends = new MooncakeSendTable({
    abortTimeoutMs: o.mooncakeAbortTimeoutMs,
    maxHeld: MAX_HELD_TRANSFERS,
    maxWaiting: MAX_WAITING_PULLS,
    onExpire: (count) => {
      metrics.mooncakeExpired += count;
    },
  });
  const channel = await ZmqSideChannel.bind(o.host, o.kvPort, async (read) => {
    const engineId = read['engine_id'];
    const transferId = read['transfer_id'];
    if (typeof engineId !== 'string' || typeof transferId !== 'string') return NOT_READY;
    const result = await sends.pull(engineId, transferId, closing.signal);
    metrics.mooncakePullsServed.set(result, (metrics.mooncakePullsServed.get(result) ?? 0) + 1);
    // vLLM's sender answers "Timeout waiting for P side ready" to a pull its KV never came for.
    return result === 'timeout' ? NOT_READY : result;
  });
  let bootstrap: BootstrapServer | undefined;
  if (o.role === 'prefill') {
    const workerAddr = `tcp://${o.advertiseHost}:${channel.port}`;
    try {
      bootstrap = await startBootstrapServer(
        o.host,
        o.mooncakeBootstrapPort,
        bootstrapQueryBody(o.mooncakeEngineIds, workerAddr),
        faults,
      );
    } catch (error) {
      await channel.close();
      throw error;
    }
  }
  const state: MooncakeState = {
    engineIds: o.mooncakeEngineIds,
    channel,
    sends,
    bootstrap,
    abortTimeoutMs: o.mooncakeAbortTimeoutMs,
    agents: new Map(),
    closing,
    pulling: 0,
  };
  return state;
}

export async function stopMooncake(state: MooncakeState): Promise<void> {
  state.closing.abort();
  await state.bootstrap?.close();
  await state.channel.close();
}

export type RankOutcome =
  | { readonly ok: true; readonly rank: number }
  | { readonly ok: false; readonly message: string };

/**
 * The DP rank a request runs on, from `X-data-parallel-rank` (absent: rank 0, as vLLM's own balancer
 * would pick some rank). A value that is not an integer in 0..dpSize-1 is refused, as vLLM refuses it.
 */
export function dataParallelRank(header: string | undefined, dpSize: number): RankOutcome {
  if (header === undefined) return { ok: true, rank: 0 };
  const rank = /^\s*\d+\s*$/.test(header) ? Number(header) : Number.NaN;
  if (!Number.isInteger(rank))
    return { ok: false, message: `Invalid X-data-parallel-rank header: ${header}` };
  if (rank >= dpSize) {
    return { ok: false, message: `data_parallel_rank ${rank} is out of range [0, ${dpSize}).` };
  }
  return { ok: true, rank };
}

function asObject(value: JsonValue | undefined): { readonly [key: string]: JsonValue } | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

/**
 * A prefill's end of request (vLLM's `request_finished`): with `do_remote_decode`, a `transfer_id` and
 * a length-capped finish, the KV is held for the decode under the rank's engine id. Mooncake's prefill
 * answers `kv_transfer_params: null` either way: the decode learns everything from the router.
 */
export function settleMooncakePrefill(
  state: MooncakeState,
  request: CompletionRequest,
  plan: GenerationPlan,
  rank: number,
  faults: RequestFaults,
): MooncakeRecord {
  const params = asObject(request.kvTransferParams);
  if (!wantsRemoteDecode(request.kvTransferParams)) return { path: 'prefill-plain', rank };
  const transferId = params?.['transfer_id'];
  const engineId = state.engineIds[rank] ?? '';
  if (typeof transferId !== 'string' || transferId === '') {
    return { path: 'prefill-invalid-params', rank, engineId };
  }
  const record = { rank, engineId, transferId };
  if (plan.finishReason !== 'length') return { path: 'prefill-not-capped', ...record };
  if (faults.kvNeverArrives === true) return { path: 'prefill-dropped', ...record };
  state.sends.hold(engineId, transferId);
  return { path: 'prefill-held', ...record };
}

export interface MooncakeDecodeTransfer {
  /** True when the KV came from the prefill: the decode skips the prefill cost. */
  readonly loaded: boolean;
  /** True when the transfer failed: vLLM's decode never finishes such a request. */
  readonly failed: boolean;
  readonly record: MooncakeRecord;
}

/**
 * A decode request's transfer, as vLLM's Mooncake worker does it: look the prefill's engine id up on
 * its bootstrap server (once per engine id), then pull the KV for `transfer_id` from that engine's
 * worker address, where the prefill holds the pull until its KV is ready or its abort timeout passes.
 */
export async function mooncakeDecodeTransfer(
  state: MooncakeState,
  metrics: MockMetrics,
  kvTransferParams: JsonValue | undefined,
  signal: AbortSignal,
): Promise<MooncakeDecodeTransfer | 'aborted'> {
  const p = asObject(kvTransferParams);
  if (p === undefined || !pyTruthy(p['do_remote_prefill'])) {
    return { loaded: false, failed: false, record: { path: 'decode-local', reason: 'missing_params' } };
  }
  const engineId = p['remote_engine_id'];
  const bootstrapAddr = p['remote_bootstrap_addr'];
  const transferId = p['transfer_id'];
  if (typeof engineId !== 'string' || typeof bootstrapAddr !== 'string' || typeof transferId !== 'string') {
    return { loaded: false, failed: false, record: { path: 'decode-local', reason: 'invalid_params' } };
  }
  const given = { engineId, transferId, bootstrapAddr };
  const fail = (reason: MooncakeReason): MooncakeDecodeTransfer => {
    metrics.mooncakeFailures.set(reason, (metrics.mooncakeFailures.get(reason) ?? 0) + 1);
    return { loaded: false, failed: true, record: { path: 'decode-failed', reason, ...given } };
  };
  state.pulling += 1;
  try {
    let worker = state.agents.get(engineId);
    if (worker === undefined) {
      const endpoint = loopbackEndpoint(bootstrapAddr);
      if (endpoint === undefined) return fail('not_loopback');
      const agents = await queryBootstrap(endpoint, signal);
      if (signal.aborted) return 'aborted';
      if (agents === undefined) return fail('bootstrap_unreachable');
      for (const [id, addr] of agents) {
        if (state.agents.size >= MAX_KNOWN_ENGINES) state.agents.clear();
        state.agents.set(id, addr);
      }
      worker = agents.get(engineId);
      if (worker === undefined) return fail('engine_not_found');
    }
    const target = loopbackEndpoint(worker);
    if (target === undefined) return fail('not_loopback');
    const answer = await state.channel.read(
      target.host,
      target.port,
      { engine_id: engineId, transfer_id: transferId },
      state.abortTimeoutMs + PULL_GRACE_MS,
      signal,
    );
    if (answer === 'aborted') return 'aborted';
    if (answer === 'ok') {
      metrics.mooncakePulls += 1;
      return { loaded: true, failed: false, record: { path: 'decode-pulled', ...given } };
    }
    if (answer !== 'timeout') return fail('transfer_timeout');
    // A worker that never answers may be a stale address: ask its bootstrap server again next time.
    state.agents.delete(engineId);
    return fail('side_channel_timeout');
  } finally {
    state.pulling -= 1;
  }
}
