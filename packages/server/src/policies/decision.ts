import type { Policy, RoutingRequest, WorkerView } from './types.js';

/** A chosen worker and why (a small fixed set of reasons, usable as a metric label). */
export interface Decision {
  readonly worker: WorkerView;
  readonly reason: string;
}

/**
 * A Policy that also says why it chose. `workers` is never empty (the pair selector reports
 * empty pools before asking) and holds only healthy workers, in configuration order.
 */
export interface DecidingPolicy extends Policy {
  decide(workers: readonly WorkerView[], request: RoutingRequest): Decision;
}

/** The injected source of randomness: uniform in [0, 1), like Math.random. */
export type Random = () => number;

/** An index in [0, n) from `random`, safe even if a bad RNG returns 1 or more. */
export function randomIndex(random: Random, n: number): number {
  const index = Math.floor(random() * n);
  return Math.min(n - 1, Math.max(0, index));
}
