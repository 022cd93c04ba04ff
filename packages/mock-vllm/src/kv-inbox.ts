/** Result of waiting for a request's KV. */
export type KvWaitResult = 'ready' | 'timeout' | 'aborted';

interface Waiter {
  readonly resolve: (result: KvWaitResult) => void;
}

export interface KvInboxOptions {
  /** KV notices kept for requests that have not arrived yet, at most this many (oldest dropped). */
  readonly maxPending: number;
  /** And at most this long. */
  readonly pendingTtlMs: number;
}

/**
 * A decode instance's mailbox of "KV ready" notices, keyed by engine request id. A notice that
 * arrives before its decode request is kept (bounded, with expiry), as vLLM's receiver buffers
 * tensors that arrive early; a request waits for its own id only.
 */
export class KvInbox {
  readonly #pending = new Map<string, number>(); // id -> arrival time (ms), insertion ordered
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #options: KvInboxOptions;
  readonly #now: () => number;

  constructor(options: KvInboxOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /** Notices received and not yet claimed. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Requests currently waiting. */
  get waitingCount(): number {
    let n = 0;
    for (const list of this.#waiters.values()) n += list.length;
    return n;
  }

  /** Records a notice: wakes the request waiting for it, or keeps it for later. */
  deliver(id: string): void {
    const waiters = this.#waiters.get(id);
    if (waiters !== undefined && waiters.length > 0) {
      const waiter = waiters.shift()!;
      if (waiters.length === 0) this.#waiters.delete(id);
      waiter.resolve('ready');
      return;
    }
    this.#prune();
    this.#pending.delete(id);
    this.#pending.set(id, this.#now());
    while (this.#pending.size > this.#options.maxPending) {
      const oldest = this.#pending.keys().next().value;
      if (oldest === undefined) break;
      this.#pending.delete(oldest);
    }
  }

  /**
   * Waits for the notice of `id`. `timeoutMs` of Infinity waits until `signal` aborts (vLLM's PUT mode
   * has no timeout).
   */
  wait(id: string, timeoutMs: number, signal: AbortSignal): Promise<KvWaitResult> {
    this.#prune();
    if (this.#pending.delete(id)) return Promise.resolve('ready');
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise<KvWaitResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: KvWaitResult): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const waiter: Waiter = { resolve: finish };
      const remove = (): void => {
        const list = this.#waiters.get(id);
        if (list === undefined) return;
        const i = list.indexOf(waiter);
        if (i !== -1) list.splice(i, 1);
        if (list.length === 0) this.#waiters.delete(id);
      };
      const onAbort = (): void => {
        remove();
        finish('aborted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          remove();
          finish('timeout');
        }, timeoutMs);
      }
      const list = this.#waiters.get(id);
      if (list === undefined) this.#waiters.set(id, [waiter]);
      else list.push(waiter);
    });
  }

  /** Drops notices older than the TTL (oldest first; the map is in arrival order). */
  #prune(): void {
    const cutoff = this.#now() - this.#options.pendingTtlMs;
    for (const [id, at] of this.#pending) {
      if (at > cutoff) break;
      this.#pending.delete(id);
    }
  }

  /** Forgets every notice (admin reset). Waiting requests keep waiting. */
  clear(): void {
    this.#pending.clear();
  }
}
