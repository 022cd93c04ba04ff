/**
 * Admission control for the proxied routes (`--max-concurrent-requests`, `--queue-size`,
 * `--queue-timeout-secs`, `--rate-limit-tokens-per-second`): at most `maxConcurrent` requests in
 * flight, each also taking one token from a bucket that refills at `tokensPerSecond`; beyond that
 * a bounded FIFO queue whose entries wait at most `queueTimeoutMs`. See docs/admission.md.
 *
 * vllm-router keeps one token bucket for both (capacity = the cap, a finished request gives its
 * token back, the refill adds more meanwhile), so its "cap" lets more than the cap in at once
 * whenever the refill outpaces completions. Here the cap is exact and the bucket only limits the
 * rate of admissions, with the same defaults (refill = the cap per second, burst = the cap).
 */

/** vllm-router's and the Python launcher's defaults. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 32_768;
export const DEFAULT_QUEUE_SIZE = 100;
export const DEFAULT_QUEUE_TIMEOUT_SECS = 60;

export interface AdmissionOptions {
  /** Requests in flight at most; 0 or less (vllm-router's -1): no cap. */
  readonly maxConcurrent: number;
  /** Requests that may wait for a place; 0: refuse at once when full. */
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  /** Admissions per second (bucket refill; Infinity: no bucket); the bucket holds the cap's worth (or one second's). */
  readonly tokensPerSecond: number;
  /** Monotonic milliseconds (performance.now). */
  readonly now: () => number;
}

/** One queued request. */
export interface Waiter {
  readonly enqueuedAt: number;
}

interface Node extends Waiter {
  prev: Node | undefined;
  next: Node | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly admit: (waitedMs: number) => void;
  readonly expire: () => void;
  /** Still in the queue (cleared when it leaves it, whichever way). */
  queued: boolean;
}

function expireNode(admission: Admission, node: Node): void {
  admission.expire(node);
}

function admitFromQueue(admission: Admission): void {
  admission.drain();
}

/**
 * The admission state of one server. The request path calls `tryEnter()` (a few comparisons when a
 * place is free) and `leave` once per admitted request; `wait` only when no place is free.
 *
 * @example
 * if (admission.tryEnter()) run().finally(admission.leave);
 * else if (admission.wait(run, answer408) === undefined) answer429();
 */
export class Admission {
  readonly #max: number;
  readonly #queueSize: number;
  readonly #queueTimeoutMs: number;
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #inFlight = 0;
  #tokens: number;
  #refilledAt: number;
  #head: Node | undefined;
  #tail: Node | undefined;
  #queued = 0;
  /** Armed while the queue's head waits for a token (not for a place). */
  #tokenTimer: NodeJS.Timeout | undefined;

  constructor(options: AdmissionOptions) {
    this.#max = options.maxConcurrent <= 0 ? Number.POSITIVE_INFINITY : options.maxConcurrent;
    this.#queueSize = options.queueSize;
    this.#queueTimeoutMs = options.queueTimeoutMs;
    this.#rate = options.tokensPerSecond;
    this.#capacity = Number.isFinite(this.#max) ? Math.max(this.#max, 1) : Math.max(this.#rate, 1);
    this.#now = options.now;
    this.#tokens = this.#capacity;
    this.#refilledAt = options.now();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Takes a place now if one is free and nobody waits before us (FIFO). */
  tryEnter(): boolean {
    if (this.#queued !== 0 || this.#inFlight >= this.#max || !this.#takeToken()) return false;
    this.#inFlight++;
    return true;
  }

  /** An admitted request is over (bound: usable as a listener). */
  readonly leave = (): void => {
    this.#inFlight--;
    if (this.#queued !== 0) this.drain();
  };

  /**
   * Queues a request: `admit(waitedMs)` when it gets a place (it must then `leave` once), or
   * `expire()` after the queue timeout. Undefined when the queue is full: refuse it at once.
   */
  wait(admit: (waitedMs: number) => void, expire: () => void): Waiter | undefined {
    if (this.#queued >= this.#queueSize) return undefined;
    const node: Node = {
      enqueuedAt: this.#now(),
      prev: this.#tail,
      next: undefined,
      timer: undefined,
      admit,
      expire,
      queued: true,
    };
    if (this.#tail === undefined) this.#head = node;
    else this.#tail.next = node;
    this.#tail = node;
    this.#queued++;
    node.timer = setTimeout(expireNode, this.#queueTimeoutMs, this, node);
    // A place may be free with only the bucket empty: the token timer admits it in time.
    this.drain();
    return node;
  }

  /** The client left while queued: its place in the queue is freed. No-op once it left the queue. */
  cancel(waiter: Waiter): void {
    this.#unlink(waiter as Node);
  }

  /** Seconds a refused client should wait before trying again (whole seconds, at least 1). */
  retryAfterSeconds(): number {
    if (this.#rate === Number.POSITIVE_INFINITY) return 1;
    this.#refill();
    const deficit = 1 - this.#tokens;
    return deficit <= 0 ? 1 : Math.max(1, Math.ceil(deficit / this.#rate));
  }

  /** Called by a node's timer: it waited too long. */
  expire(node: Node): void {
    if (!node.queued) return;
    this.#unlink(node);
    node.expire();
  }

  /** Admits queued requests while places and tokens allow (called on leave, enqueue, token timer). */
  drain(): void {
    this.#tokenTimer = undefined;
    while (this.#head !== undefined && this.#inFlight < this.#max) {
      if (!this.#takeToken()) {
        const waitMs = Math.ceil(((1 - this.#tokens) / this.#rate) * 1_000);
        this.#tokenTimer ??= setTimeout(admitFromQueue, Math.max(1, waitMs), this);
        return;
      }
      const node = this.#head;
      this.#unlink(node);
      this.#inFlight++;
      node.admit(this.#now() - node.enqueuedAt);
    }
  }

  /** Clears every timer (server close): queued requests are left to the connections' fate. */
  close(): void {
    clearTimeout(this.#tokenTimer);
    for (let node = this.#head; node !== undefined; node = node.next) clearTimeout(node.timer);
  }

  #unlink(node: Node): void {
    if (!node.queued) return;
    node.queued = false;
    clearTimeout(node.timer);
    if (node.prev === undefined) this.#head = node.next;
    else node.prev.next = node.next;
    if (node.next === undefined) this.#tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    this.#queued--;
    if (this.#queued === 0) {
      clearTimeout(this.#tokenTimer);
      this.#tokenTimer = undefined;
    }
  }

  #refill(): void {
    const now = this.#now();
    const tokens = this.#tokens + ((now - this.#refilledAt) * this.#rate) / 1_000;
    this.#tokens = Math.min(tokens, this.#capacity);
    this.#refilledAt = now;
  }

  #takeToken(): boolean {
    if (this.#rate === Number.POSITIVE_INFINITY) return true;
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
