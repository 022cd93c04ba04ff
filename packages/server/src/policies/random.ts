import { type DecidingPolicy, type Decision, type Random, randomIndex } from './decision.js';
import type { RoutingRequest, WorkerView } from './types.js';

/**
 * random: a uniformly random healthy worker, drawn from the injected RNG.
 *
 * @example createRandomPolicy(Math.random).pick(workers, request)
 */
export function createRandomPolicy(random: Random): DecidingPolicy {
  const decide = (workers: readonly WorkerView[], _request: RoutingRequest): Decision => ({
    worker: workers[randomIndex(random, workers.length)] as WorkerView,
    reason: 'random',
  });
  return { name: 'random', decide, pick: (workers, request) => decide(workers, request).worker };
}
