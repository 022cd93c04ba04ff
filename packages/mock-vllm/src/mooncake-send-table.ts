import { Rendezvous, type RendezvousResult } from './rendezvous.js';

/** What a pull ends with on the prefill side. */
export type MooncakePullResult = RendezvousResult<'ok'>;

export interface MooncakeSendTableOptions {
  /** How long held KV waits for its pull, and a pull for its KV (VLLM_MOONCAKE_ABORT_REQUEST_TIMEOUT). */
  readonly abortTimeoutMs: number;
  /** Held transfers kept at most (oldest dropped, counted as expired). */
  readonly maxHeld: number;
  /** Pulls waiting at most; beyond, a new pull fails at once. */
  readonly maxWaiting: number;
  readonly onExpire: (count: number) => void;
  readonly now?: () => number;
}

/**
 * A Mooncake prefill's transfers, keyed by (engine id, `transfer_id`) as vLLM's sender keys
 * `reqs_need_send` per worker. Either side may come first: KV held before its pull waits up to the
 * abort timeout (then it is freed, as `fetch_finished_sending_reqs` expires it); a pull that comes
 * before its KV waits as long (then it fails, as `send_kv_to_decode` answers "Timeout waiting for P
 * side ready").
 */
export class MooncakeSendTable {
  readonly #table: Rendezvous<'ok'>;
  readonly #timeoutMs: number;

  constructor(options: MooncakeSendTableOptions) {
    const { abortTimeoutMs, maxHeld, maxWaiting, onExpire, now = Date.now } = options;
    this.#table = new Rendezvous({ ttlMs: abortTimeoutMs, maxHeld, maxWaiting, onExpire, now }, 'ok');
    this.#timeoutMs = abortTimeoutMs;
  }

  get heldCount(): number {
    this.#table.expire();
    return this.#table.heldCount;
  }

  /** The prefill finished: its KV for `transferId` is ready. Wakes the pull waiting for it, if any. */
  hold(engineId: string, transferId: string): void {
    this.#table.arrive(keyOf(engineId, transferId));
  }

  /** A decode asks for `transferId` from `engineId`: `ok` once held, `timeout` after the abort timeout. */
  pull(engineId: string, transferId: string, signal: AbortSignal): Promise<MooncakePullResult> {
    return this.#table.wait(keyOf(engineId, transferId), this.#timeoutMs, signal);
  }

  /** Forgets held KV (admin reset). Waiting pulls keep waiting. */
  clear(): void {
    this.#table.clear();
  }
}

function keyOf(engineId: string, transferId: string): string {
  return `${engineId}\u0000${transferId}`;
}
