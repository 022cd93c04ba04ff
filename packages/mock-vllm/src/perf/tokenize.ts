/**
 * The performance model's tokenization: every maximal run of non-whitespace characters is one
 * token ("a  b\nc" is 3 tokens). Token-id prompts are their ids. Deterministic and documented so a
 * client (pd-bench replay) can build prompts with an exact token count and exact shared prefixes.
 */

const WHITESPACE = /\s+/;

export function words(text: string): string[] {
  const out = text.split(WHITESPACE);
  // split leaves an empty first/last element around leading/trailing whitespace.
  if (out.length > 0 && out[0] === '') out.shift();
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** 53-bit string hash (cyrb53), seeded: chained block hashes stay numbers, cheap as Map keys. */
function hash53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * vLLM's prefix-cache keys: one hash per full block of `blockSize` tokens, each chained to the
 * previous block's hash, so equal hashes mean equal whole prefixes. A partial last block has none.
 */
export function blockHashes(tokens: readonly string[], blockSize: number): number[] {
  const full = Math.floor(tokens.length / blockSize);
  const out = new Array<number>(full);
  let prev = 0;
  for (let b = 0; b < full; b++) {
    // The low 32 bits of the parent seed the block's hash: a chain, not a bag of blocks.
    prev = hash53(tokens.slice(b * blockSize, (b + 1) * blockSize).join(' '), (prev % 4294967296) ^ b);
    out[b] = prev;
  }
  return out;
}
