import { type DecidingPolicy, type Decision, type Random, randomIndex } from './decision.js';
import type { RoutingRequest, WorkerView } from './types.js';

/**
 * power_of_two: two distinct random candidates; the one with fewer in-flight requests wins, and
 * a tie is broken at random (so equal loads still spread). One worker: that worker.
 *
 * @example createPowerOfTwoPolicy(Math.random).pick(workers, request)
 */
export function createPowerOfTwoPolicy(random: Random): DecidingPolicy {
  const decide = (workers: readonly WorkerView[], _request: RoutingRequest): Decision => {
    const n = workers.length;
    if (n === 1) return { worker: workers[0] as WorkerView, reason: 'power_of_two' };
    const first = randomIndex(random, n);
    let second = randomIndex(random, n - 1);
    if (second >= first) second += 1;
    const a = workers[first] as WorkerView;
    const b = workers[second] as WorkerView;
    let worker: WorkerView;
    if (a.inFlight !== b.inFlight) worker = a.inFlight < b.inFlight ? a : b;
    else worker = random() < 0.5 ? a : b;
    return { worker, reason: 'power_of_two' };
  };
  return { name: 'power_of_two', decide, pick: (workers, request) => decide(workers, request).worker };
}
