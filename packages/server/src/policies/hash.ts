const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a over the string's UTF-16 code units, then murmur3's fmix32 finalizer: FNV alone
 * spreads keys that differ only in their last characters ("w#1", "w#2") poorly around a ring.
 * Fast, non-cryptographic, and stable across processes and versions (routing must not move).
 *
 * @example hash32('session-42') // same number in every process
 */
export function hash32(text: string): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
