/** Outcome of asking for a generation slot. */
export type SlotResult = 'acquired' | 'queue-full' | 'aborted';

interface Queued {
  readonly grant: () => void;
}

/**
 * vLLM's scheduler in miniature: at most `maxConcurrency` requests generate at once (0 = no limit),
 * the others wait in FIFO order. The counts feed `vllm:num_requests_running` / `_waiting` and /load.
 */
export class SlotScheduler {
  #running = 0;
  readonly #queue: Queued[] = [];
  readonly #maxConcurrency: number;
  readonly #maxQueue: number;

  constructor(maxConcurrency: number, maxQueue: number) {
    this.#maxConcurrency = maxConcurrency;
    this.#maxQueue = maxQueue;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Waits for a slot; release it with `release()` exactly once after 'acquired'. */
  acquire(signal: AbortSignal): Promise<SlotResult> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (this.#maxConcurrency === 0 || this.#running < this.#maxConcurrency) {
      this.#running += 1;
      return Promise.resolve('acquired');
    }
    if (this.#maxQueue > 0 && this.#queue.length >= this.#maxQueue) return Promise.resolve('queue-full');
    return new Promise<SlotResult>((resolve) => {
      const entry: Queued = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve('acquired');
        },
      };
      const onAbort = (): void => {
        const i = this.#queue.indexOf(entry);
        if (i !== -1) this.#queue.splice(i, 1);
        resolve('aborted');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(entry);
    });
  }

  release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      next.grant(); // the slot passes straight to the next request: running stays the same
      return;
    }
    this.#running -= 1;
  }
}
