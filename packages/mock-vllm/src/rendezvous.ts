/** How a wait ends: `Met` once its key arrived, else `timeout` or `aborted`. */
export type RendezvousResult<Met extends string> = Met | 'timeout' | 'aborted';

interface Waiter<Met extends string> {
  readonly finish: (result: RendezvousResult<Met>) => void;
}

export interface RendezvousOptions {
  /** An arrival nobody waits for yet is held this long... */
  readonly ttlMs: number;
  /** ...and at most this many are held (oldest dropped, counted as expired). */
  readonly maxHeld: number;
  /** Waits at most at once; beyond, a new wait times out at once. Default: no limit. */
  readonly maxWaiting?: number;
  /** Told how many held arrivals expired or were dropped. */
  readonly onExpire?: (count: number) => void;
  readonly now?: () => number;
}

/**
 * Arrivals and waits keyed by id, either one first, as vLLM buffers what comes early: an arrival
 * wakes the oldest wait for its key, or is held (bounded in number and age) for a wait to come; a
 * wait ends when its key arrives, at its timeout, or when its signal aborts.
 */
export class Rendezvous<Met extends string> {
  readonly #held = new Map<string, number>(); // key -> arrival time (ms), in arrival order
  readonly #waiters = new Map<string, Waiter<Met>[]>();
  readonly #o: RendezvousOptions;
  readonly #met: Met;
  readonly #now: () => number;
  #waiting = 0;

  constructor(options: RendezvousOptions, met: Met) {
    this.#o = options;
    this.#met = met;
    this.#now = options.now ?? Date.now;
  }

  /** Arrivals held (not yet waited for). */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Waits not ended yet. */
  get waitingCount(): number {
    return this.#waiting;
  }

  /** `key` arrived: wakes the oldest wait for it, or holds it for later. */
  arrive(key: string): void {
    const waiters = this.#waiters.get(key);
    const waiter = waiters?.shift();
    if (waiter !== undefined) {
      if (waiters?.length === 0) this.#waiters.delete(key);
      waiter.finish(this.#met);
      return;
    }
    this.expire();
    this.#held.delete(key);
    this.#held.set(key, this.#now());
    while (this.#held.size > this.#o.maxHeld) {
      const oldest = this.#held.keys().next().value;
      if (oldest === undefined) break;
      this.#held.delete(oldest);
      this.#o.onExpire?.(1);
    }
  }

  /** Waits for `key`; a `timeoutMs` of Infinity waits until `signal` aborts. */
  wait(key: string, timeoutMs: number, signal: AbortSignal): Promise<RendezvousResult<Met>> {
    this.expire();
    if (this.#held.delete(key)) return Promise.resolve(this.#met);
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.#waiting >= (this.#o.maxWaiting ?? Number.POSITIVE_INFINITY)) return Promise.resolve('timeout');
    this.#waiting += 1;
    return new Promise<RendezvousResult<Met>>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (result: RendezvousResult<Met>): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waiting -= 1;
        resolve(result);
      };
      const waiter: Waiter<Met> = { finish };
      const drop = (result: 'timeout' | 'aborted'): void => {
        const list = this.#waiters.get(key);
        const i = list?.indexOf(waiter) ?? -1;
        if (list === undefined || i === -1) return;
        list.splice(i, 1);
        if (list.length === 0) this.#waiters.delete(key);
        finish(result);
      };
      const onAbort = (): void => drop('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) timer = setTimeout(() => drop('timeout'), timeoutMs);
      const list = this.#waiters.get(key);
      if (list === undefined) this.#waiters.set(key, [waiter]);
      else list.push(waiter);
    });
  }

  /** Drops held arrivals older than the TTL (oldest first: the map is in arrival order). */
  expire(): void {
    const cutoff = this.#now() - this.#o.ttlMs;
    let expired = 0;
    for (const [key, at] of this.#held) {
      if (at > cutoff) break;
      this.#held.delete(key);
      expired += 1;
    }
    if (expired > 0) this.#o.onExpire?.(expired);
  }

  /** Forgets every held arrival (admin reset). Waits keep waiting. */
  clear(): void {
    this.#held.clear();
  }
}
