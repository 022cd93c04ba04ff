/** Senders tracked at once: beyond this (a flood of connections), new senders wait for a sweep. */
export const MAX_TRACKED_SENDERS = 4_096;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per sender: `ratePerSecond` messages a second, bursts of as many. vLLM sends one
 * registration every 3 s per instance, so a sender far above that is not a vLLM instance.
 * Memory is bounded: at most `maxSenders` buckets; `sweep` forgets full (idle) ones, and while the
 * table is full a new sender is refused until one is forgotten.
 *
 * @example
 * const limit = new SenderRateLimit(10);
 * if (!limit.take(routingId)) return; // dropped, counted as rate_limited
 */
export class SenderRateLimit {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxSenders: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(ratePerSecond: number, maxSenders = MAX_TRACKED_SENDERS) {
    this.#rate = ratePerSecond / 1_000;
    this.#burst = Math.max(1, ratePerSecond);
    this.#maxSenders = maxSenders;
  }

  /** Senders currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** True when `sender` may send one more message now (and counts it). */
  take(sender: string, now = performance.now()): boolean {
    let bucket = this.#buckets.get(sender);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSenders) {
        this.sweep(now);
        if (this.#buckets.size >= this.#maxSenders) return false;
      }
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(sender, bucket);
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets senders whose bucket has refilled: they sent nothing for a while. */
  sweep(now = performance.now()): void {
    for (const [sender, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#rate >= this.#burst) this.#buckets.delete(sender);
    }
  }
}
