/**
 * The performance model's tokenization: every maximal run of non-whitespace characters is one
 * token ("a  b\nc" is 3 tokens). Token-id prompts are their ids (joined by spaces, so the same
 * rule applies). Deterministic and documented so a client (pd-bench replay) can build prompts
 * with an exact token count and exact shared prefixes. Both functions are single passes over the
 * text without allocating per token: a 40k-token prompt costs well under a millisecond.
 */

/** JavaScript's \s: the characters that separate tokens. */
function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Tokens of a text: whitespace-separated words. */
export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return n;
}

/**
 * vLLM's prefix-cache keys: one hash per full block of `blockSize` tokens, each chained to the
 * previous block's hash (it seeds the next), so equal keys mean equal whole prefixes. A partial
 * last block has none. The hash (cyrb53, 53 bits) reads a block's words with one space between
 * them, whatever whitespace the text had.
 */
export function blockHashes(text: string, blockSize: number): number[] {
  const out: number[] = [];
  let seed = 0;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let inBlock = 0;
  let inWord = false;
  const mix = (c: number): void => {
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  };
  const endWord = (): void => {
    inBlock++;
    if (inBlock < blockSize) {
      mix(32);
      return;
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
    out.push(hash);
    // The low 32 bits of the block's hash and its index seed the next: a chain.
    seed = (hash % 4294967296) ^ out.length;
    h1 = 0xdeadbeef ^ seed;
    h2 = 0x41c6ce57 ^ seed;
    inBlock = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      if (inWord) endWord();
      inWord = false;
    } else {
      mix(c);
      inWord = true;
    }
  }
  if (inWord) endWord();
  return out;
}
