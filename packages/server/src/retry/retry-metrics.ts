import type { Registry } from 'prom-client';
import { FastCounter, type FastCounterChild } from '../fast-metrics.js';
import type { RetryReason } from './retry-policy.js';

type Leg = 'prefill' | 'decode';

/** `pd_router_retries_total{leg, reason}` and `pd_router_retries_exhausted_total{leg}` (docs/metrics.md). */
export class RetryMetrics {
  readonly #retries: FastCounter;
  readonly #exhausted: FastCounter;
  readonly #children = new Map<string, FastCounterChild>();

  constructor(registry: Registry) {
    this.#retries = new FastCounter(
      registry,
      'pd_router_retries_total',
      'Requests retried on a new pair after a leg failed before any byte reached the client, by the leg that failed and why.',
      ['leg', 'reason'],
    );
    this.#exhausted = new FastCounter(
      registry,
      'pd_router_retries_exhausted_total',
      'Requests whose last allowed attempt failed in a retryable way (the failure was answered).',
      ['leg'],
    );
  }

  retry(leg: Leg, reason: RetryReason): void {
    const key = `${leg} ${reason}`;
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.#retries.labels(leg, reason);
      this.#children.set(key, child);
    }
    child.inc();
  }

  exhausted(leg: Leg): void {
    this.#exhausted.labels(leg).inc();
  }
}
