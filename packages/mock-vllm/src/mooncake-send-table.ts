/** What a pull ends with on the prefill side. */
export type MooncakePullResult = 'ok' | 'timeout' | 'aborted';

interface Waiter {
  readonly finish: (result: MooncakePullResult) => void;
}

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
  readonly #held = new Map<string, number>(); // key -> held at (ms), in insertion order
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #o: MooncakeSendTableOptions;
  readonly #now: () => number;
  #waiting = 0;

  constructor(options: MooncakeSendTableOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get heldCount(): number {
    this.#prune();
    return this.#held.size;
  }

  /** The prefill finished: its KV for `transferId` is ready. Wakes the pull waiting for it, if any. */
  hold(engineId: string, transferId: string): void {
    const key = keyOf(engineId, transferId);
    const waiters = this.#waiters.get(key);
    const waiter = waiters?.shift();
    if (waiter !== undefined) {
      if (waiters?.length === 0) this.#waiters.delete(key);
      waiter.finish('ok');
      return;
    }
    this.#prune();
    this.#held.delete(key);
    this.#held.set(key, this.#now());
    while (this.#held.size > this.#o.maxHeld) {
      const oldest = this.#held.keys().next().value;
      if (oldest === undefined) break;
      this.#held.delete(oldest);
      this.#o.onExpire(1);
    }
  }

  /** A decode asks for `transferId` from `engineId`: `ok` once held, `timeout` after the abort timeout. */
  pull(engineId: string, transferId: string, signal: AbortSignal): Promise<MooncakePullResult> {
    this.#prune();
    const key = keyOf(engineId, transferId);
    if (this.#held.delete(key)) return Promise.resolve('ok');
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.#waiting >= this.#o.maxWaiting) return Promise.resolve('timeout');
    this.#waiting += 1;
    return new Promise<MooncakePullResult>((resolve) => {
      const finish = (result: MooncakePullResult): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiting -= 1;
        resolve(result);
      };
      const waiter: Waiter = { finish };
      const drop = (result: MooncakePullResult): void => {
        const list = this.#waiters.get(key);
        const i = list?.indexOf(waiter) ?? -1;
        if (list === undefined || i === -1) return;
        list.splice(i, 1);
        if (list.length === 0) this.#waiters.delete(key);
        finish(result);
      };
      const onAbort = (): void => drop('aborted');
      const timer = setTimeout(() => drop('timeout'), this.#o.abortTimeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      const list = this.#waiters.get(key);
      if (list === undefined) this.#waiters.set(key, [waiter]);
      else list.push(waiter);
    });
  }

  /** Forgets held KV (admin reset). Waiting pulls keep waiting. */
  clear(): void {
    this.#held.clear();
  }

  #prune(): void {
    const cutoff = this.#now() - this.#o.abortTimeoutMs;
    let expired = 0;
    for (const [key, at] of this.#held) {
      if (at > cutoff) break;
      this.#held.delete(key);
      expired += 1;
    }
    if (expired > 0) this.#o.onExpire(expired);
  }
}

function keyOf(engineId: string, transferId: string): string {
  return `${engineId}\u0000${transferId}`;
}
