import { randomFillSync } from 'node:crypto';

/** Bytes fetched from the OS at once: 256 request ids per system call. */
export const RANDOM_POOL_BYTES = 4_096;

/**
 * 16 random bytes per call from a pooled buffer refilled with one `randomFillSync` when used up
 * (the request id's uuid4 part needs a CSPRNG, and one syscall per request is wasted CPU).
 * The returned view is only valid until the pool wraps: consume it immediately.
 *
 * @example
 * const random16 = createRandom16();
 * createRequestId(p, d, random16());
 */
export function createRandom16(poolBytes = RANDOM_POOL_BYTES): () => Uint8Array {
  const pool = Buffer.allocUnsafe(poolBytes - (poolBytes % 16));
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const out = pool.subarray(offset, offset + 16);
    offset += 16;
    return out;
  };
}
