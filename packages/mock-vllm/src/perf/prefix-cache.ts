/**
 * vLLM's KV block pool with automatic prefix caching, reduced to counts: `capacity` blocks; a
 * block holding a full prompt block is kept under its chained hash after its request ends, and is
 * evicted least-recently-freed first when a new allocation needs room.
 */

interface CachedBlock {
  readonly hash: number;
  refs: number;
}

/** The blocks one request holds: cached (hashed) ones and anonymous ones. */
export interface BlockLease {
  readonly cached: CachedBlock[];
  anonymous: number;
}

export class PrefixCache {
  readonly capacity: number;
  readonly #byHash = new Map<number, CachedBlock>();
  /** Hashed blocks no request holds, oldest-freed first (Map order is insertion order). */
  readonly #evictable = new Map<number, CachedBlock>();
  #held = 0;

  constructor(capacityBlocks: number) {
    this.capacity = capacityBlocks;
  }

  /** Blocks held by requests (vLLM's usage: evictable cached blocks count as free). */
  get used(): number {
    return this.#held;
  }

  /** Blocks an allocation can take now: never used, or cached but evictable. */
  get free(): number {
    return this.capacity - this.#held;
  }

  /** Leading blocks of `hashes` present in the cache. */
  matchBlocks(hashes: readonly number[]): number {
    let n = 0;
    while (n < hashes.length && this.#byHash.has(hashes[n] as number)) n++;
    return n;
  }

  /**
   * Takes the first `hit` blocks of `hashes` from the cache and `fresh` new blocks; undefined (and
   * nothing taken) when the pool lacks room. Evicts least-recently-freed cached blocks as needed.
   */
  allocate(hashes: readonly number[], hit: number, fresh: number): BlockLease | undefined {
    let reusedFree = 0;
    for (let i = 0; i < hit; i++)
      if ((this.#byHash.get(hashes[i] as number) as CachedBlock).refs === 0) reusedFree++;
    if (reusedFree + fresh > this.free) return undefined;
    const cached: CachedBlock[] = [];
    for (let i = 0; i < hit; i++) {
      const block = this.#byHash.get(hashes[i] as number) as CachedBlock;
      if (block.refs === 0) this.#evictable.delete(block.hash);
      block.refs++;
      cached.push(block);
    }
    this.#held += hit;
    this.#makeRoom(fresh);
    this.#held += fresh;
    return { cached, anonymous: fresh };
  }

  /**
   * A request computed its prompt: its anonymous blocks for prompt blocks `from`.. become cached
   * under their hashes (unless another request cached that hash meanwhile: that copy stays anonymous).
   */
  register(lease: BlockLease, hashes: readonly number[], from: number): void {
    for (let i = from; i < hashes.length && lease.anonymous > 0; i++) {
      const hash = hashes[i] as number;
      if (this.#byHash.has(hash)) continue;
      const block: CachedBlock = { hash, refs: 1 };
      this.#byHash.set(hash, block);
      lease.cached.push(block);
      lease.anonymous--;
    }
  }

  /**
   * Gives a request's blocks back. Cached ones become evictable tail first, as vLLM frees a
   * request's blocks in reverse so a prefix outlives its suffix.
   */
  release(lease: BlockLease): void {
    for (let i = lease.cached.length - 1; i >= 0; i--) {
      const block = lease.cached[i] as CachedBlock;
      block.refs--;
      if (block.refs === 0) this.#evictable.set(block.hash, block);
    }
    this.#held -= lease.cached.length + lease.anonymous;
    lease.cached.length = 0;
    lease.anonymous = 0;
  }

  /** Evicts until `n` blocks are free of any cached content. */
  #makeRoom(n: number): void {
    let neverUsed = this.capacity - this.#held - this.#evictable.size;
    for (const [hash] of this.#evictable) {
      if (neverUsed >= n) return;
      this.#evictable.delete(hash);
      this.#byHash.delete(hash);
      neverUsed++;
    }
  }
}
