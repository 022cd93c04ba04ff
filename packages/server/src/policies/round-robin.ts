import type { DecidingPolicy, Decision } from './decision.js';
import type { RoutingRequest, WorkerView } from './types.js';

/**
 * round_robin exactly as vLLM's reference proxy: request k goes to workers[k mod n], in
 * configuration order. `turn` returns k; the pair selector passes its one counter shared by the
 * prefill and decode pools (the reference's global `count`), so with 2P3D the pairs run
 * (P1,D1), (P2,D2), (P1,D3), (P2,D1), ... Without `turn`, the policy counts its own picks.
 *
 * @example
 * const rr = createRoundRobinPolicy();
 * rr.pick(workers, request); // workers[0], then workers[1], ...
 */
export function createRoundRobinPolicy(turn?: () => number): DecidingPolicy {
  let own = 0;
  const current = turn ?? (() => own++);
  const decide = (workers: readonly WorkerView[], _request: RoutingRequest): Decision => ({
    worker: workers[current() % workers.length] as WorkerView,
    reason: 'round_robin',
  });
  return { name: 'round_robin', decide, pick: (workers, request) => decide(workers, request).worker };
}
