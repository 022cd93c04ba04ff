/**
 * The router's knowledge of which worker holds which prompt prefix, for pd_aware. A prompt is cut
 * into chunks of CHUNK_CHARS characters, each keyed by a hash chained to the previous chunk's (so a
 * key stands for a whole prefix, as vLLM's block hashes do). One global map from key to the
 * workers (slots) that were sent that prefix; bounded to `maxChars / CHUNK_CHARS` keys, the
 * oldest key out first (first-in first-out: a hot prefix that leaves comes back with its next
 * request; reordering a Map on every hit would cost more than the decision budget). A lookup costs
 * one map probe per matched chunk, whatever the worker count.
 */

/** Characters per chunk: about 64 tokens of English, four vLLM blocks. */
export const CHUNK_CHARS = 256;

interface Entry {
  /** Worker slots holding this prefix (a Set: a system prompt may live on every worker). */
  readonly holders: Set<number>;
}

/** FNV-1a over a slice, seeded with the previous chunk's hash: a chain. */
function chunkHash(text: string, from: number, to: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Chained hashes of a prompt's full chunks. The partial tail has none (as vLLM's partial block). */
export function chunkKeys(text: string): Uint32Array {
  const n = Math.floor(text.length / CHUNK_CHARS);
  const keys = new Uint32Array(n);
  let prev = 0;
  for (let k = 0; k < n; k++) {
    prev = chunkHash(text, k * CHUNK_CHARS, (k + 1) * CHUNK_CHARS, prev);
    keys[k] = prev;
  }
  return keys;
}

export class PrefixIndex {
  readonly #entries = new Map<number, Entry>();
  readonly #maxKeys: number;

  constructor(maxChars: number) {
    this.#maxKeys = Math.max(1, Math.floor(maxChars / CHUNK_CHARS));
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Writes into `matched[slot]` the characters of the prompt each holder has cached (only for
   * slots that hold at least the first chunk); returns the slots written.
   */
  match(keys: Uint32Array, matched: Float64Array): number[] {
    const first = keys.length === 0 ? undefined : this.#entries.get(keys[0] as number);
    if (first === undefined) return [];
    const seen = [...first.holders];
    let alive = seen.slice();
    for (const s of alive) matched[s] = CHUNK_CHARS;
    for (let k = 1; k < keys.length && alive.length > 0; k++) {
      const entry = this.#entries.get(keys[k] as number);
      if (entry === undefined) break;
      const next: number[] = [];
      for (const s of alive) if (entry.holders.has(s)) next.push(s);
      alive = next;
      for (const s of alive) matched[s] = (k + 1) * CHUNK_CHARS;
    }
    return seen;
  }

  /** Records that `slot` now holds the prompt's prefix. */
  insert(keys: Uint32Array, slot: number): void {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as number;
      let entry = this.#entries.get(key);
      if (entry === undefined) {
        entry = { holders: new Set([slot]) };
        this.#entries.set(key, entry);
      } else entry.holders.add(slot);
    }
    // Evict whole keys, oldest first (Map order is insertion order).
    if (this.#entries.size > this.#maxKeys) {
      let excess = this.#entries.size - this.#maxKeys;
      for (const key of this.#entries.keys()) {
        if (excess-- <= 0) break;
        this.#entries.delete(key);
      }
    }
  }
}
