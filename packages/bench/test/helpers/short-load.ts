import { type LoadResult, type LoadTarget, runLoad } from '../../src/load/generator.js';

/** A short closed loop (4 clients, 300 ms, at most 200 requests): enough to see a target work. */
export function shortClosedLoad(target: LoadTarget): Promise<LoadResult> {
  return runLoad(target, {
    shape: { mode: 'closed', concurrency: 4 },
    durationMs: 300,
    maxRequests: 200,
    drainTimeoutMs: 10_000,
  });
}
