import type { NixlReadRequest, NixlReadResult } from './nixl-types.js';

export interface NixlBlockStoreOptions {
  /** This instance's engine id: reads naming another one are refused. */
  readonly engineId: string;
  /** How long unread blocks are held (VLLM_NIXL_ABORT_REQUEST_TIMEOUT). */
  readonly ttlMs: number;
  /** Requests held at most; past it the oldest are dropped and counted as expired. */
  readonly maxHeld: number;
  /** Called when held requests expire (or are dropped past `maxHeld`). */
  readonly onExpire: (requests: number, blocks: number) => void;
}

interface Held {
  readonly blockIds: readonly number[];
  readonly expiresAt: number;
}

/** Expired ids remembered so a late read is told `expired` rather than `not-found`. */
const EXPIRED_MEMORY = 10_000;
/** setTimeout's largest delay; a longer TTL is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_BLOCK_ID = 2 ** 31 - 1;

/**
 * A prefill's KV blocks pinned for remote decodes, keyed by its internal request id: held when a
 * request finishes length-capped, freed when a decode reads them, or expired after the TTL, as
 * vLLM's `_reqs_need_send` with its abort timeout. One timer for the oldest entry (the TTL is
 * constant, so insertion order is expiry order).
 */
export class NixlBlockStore {
  readonly #held = new Map<string, Held>();
  readonly #expired = new Set<string>();
  readonly #options: NixlBlockStoreOptions;
  readonly #now: () => number;
  #heldBlocks = 0;
  #nextBlockId = 1;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: NixlBlockStoreOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  get heldRequests(): number {
    return this.#held.size;
  }

  get heldBlocks(): number {
    return this.#heldBlocks;
  }

  /** Fresh block ids for a prefill (monotonic; a real allocator reuses freed ones). */
  allocate(count: number): number[] {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) {
      ids.push(this.#nextBlockId);
      this.#nextBlockId = this.#nextBlockId >= MAX_BLOCK_ID ? 1 : this.#nextBlockId + 1;
    }
    return ids;
  }

  /** Pins `blockIds` for `requestId` until a read or the TTL. An empty list holds nothing (vLLM frees at once). */
  hold(requestId: string, blockIds: readonly number[]): void {
    if (blockIds.length === 0) return;
    this.#release(requestId);
    this.#expired.delete(requestId);
    this.#held.set(requestId, { blockIds, expiresAt: this.#now() + this.#options.ttlMs });
    this.#heldBlocks += blockIds.length;
    let dropped = 0;
    let droppedBlocks = 0;
    while (this.#held.size > this.#options.maxHeld) {
      const oldest = this.#held.keys().next().value;
      if (oldest === undefined) break;
      droppedBlocks += this.#expire(oldest);
      dropped += 1;
    }
    if (dropped > 0) this.#options.onExpire(dropped, droppedBlocks);
    this.#arm();
  }

  /**
   * Serves a decode's read: `ok` frees the blocks; otherwise they stay as they were. The engine id is
   * checked first, as a NIXL handshake with the wrong agent fails before any block is looked at.
   */
  take(read: NixlReadRequest): NixlReadResult {
    this.sweep();
    if (read.engineId !== this.#options.engineId) return 'engine-mismatch';
    const held = this.#held.get(read.requestId);
    if (held === undefined) return this.#expired.has(read.requestId) ? 'expired' : 'not-found';
    if (!sameIds(held.blockIds, read.blockIds)) return 'block-mismatch';
    this.#release(read.requestId);
    return 'ok';
  }

  /** Expires every entry past its TTL (also run by the timer, so gauges fall while idle). */
  sweep(): void {
    const now = this.#now();
    let requests = 0;
    let blocks = 0;
    for (const [id, held] of this.#held) {
      if (held.expiresAt > now) break;
      blocks += this.#expire(id);
      requests += 1;
    }
    if (requests > 0) this.#options.onExpire(requests, blocks);
  }

  /** Forgets everything (admin reset); nothing is counted as expired. */
  clear(): void {
    this.#held.clear();
    this.#expired.clear();
    this.#heldBlocks = 0;
    this.#disarm();
  }

  close(): void {
    this.clear();
  }

  #expire(id: string): number {
    const n = this.#release(id);
    this.#expired.add(id);
    if (this.#expired.size > EXPIRED_MEMORY) {
      const oldest = this.#expired.values().next().value;
      if (oldest !== undefined) this.#expired.delete(oldest);
    }
    return n;
  }

  #release(id: string): number {
    const held = this.#held.get(id);
    if (held === undefined) return 0;
    this.#held.delete(id);
    this.#heldBlocks -= held.blockIds.length;
    if (this.#held.size === 0) this.#disarm();
    return held.blockIds.length;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const first = this.#held.values().next().value;
    if (first === undefined) return;
    const delay = Math.min(Math.max(first.expiresAt - this.#now(), 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.sweep();
      this.#arm();
    }, delay);
    // The TTL is bookkeeping: it must never keep a process (or a test run) alive.
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}
