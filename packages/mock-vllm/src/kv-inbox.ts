import { Rendezvous, type RendezvousResult } from './rendezvous.js';

/** Result of waiting for a request's KV. */
export type KvWaitResult = RendezvousResult<'ready'>;

export interface KvInboxOptions {
  /** KV notices kept for requests that have not arrived yet, at most this many (oldest dropped). */
  readonly maxPending: number;
  /** And at most this long. */
  readonly pendingTtlMs: number;
}

/**
 * A decode instance's mailbox of "KV ready" notices, keyed by engine request id. A notice that
 * arrives before its decode request is kept (bounded, with expiry), as vLLM's receiver buffers
 * tensors that arrive early; a request waits for its own id only (`wait`; a `timeoutMs` of Infinity
 * waits until its signal aborts: vLLM's PUT mode has no timeout).
 */
export class KvInbox extends Rendezvous<'ready'> {
  constructor(options: KvInboxOptions, now: () => number = Date.now) {
    super({ ttlMs: options.pendingTtlMs, maxHeld: options.maxPending, now }, 'ready');
  }

  /** Notices received and not yet claimed. */
  get pendingCount(): number {
    return this.heldCount;
  }

  /** Records a notice: wakes the request waiting for it, or keeps it for later. */
  deliver(id: string): void {
    this.arrive(id);
  }
}
