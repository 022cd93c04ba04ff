import type { RoutingRequest, WorkerView } from './types.js';

/** Workers named like the reference docs (P1, P2, D1...), in order. Test helper. */
export function workers(
  role: 'prefill' | 'decode',
  count: number,
  inFlight: readonly number[] = [],
): WorkerView[] {
  const letter = role === 'prefill' ? 'P' : 'D';
  return Array.from({ length: count }, (_, i) => ({
    id: `${letter}${i + 1}`,
    role,
    url: `http://127.0.0.1:${role === 'prefill' ? 20_000 + i : 30_000 + i}`,
    inFlight: inFlight[i] ?? 0,
  }));
}

export function request(key: string, prompt = key): RoutingRequest {
  return { hashKey: () => key, promptText: () => prompt };
}

/** A deterministic RNG (mulberry32) for tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
