import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamErrorKind } from '../metrics.js';
import type { DynamicWorkerMetrics } from '../workers/dynamic-metrics.js';
import type { WorkerOutcomeListener, WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';

export interface CircuitBreakerOptions {
  readonly registry: WorkerRegistry;
  /** Consecutive failed requests that open a worker's circuit (>= 1). */
  readonly failureThreshold: number;
  /** How long the circuit stays open before it lets one probe through. */
  readonly openMs: number;
  readonly metrics: DynamicWorkerMetrics;
  readonly log: FastifyBaseLogger;
}

/**
 * Passive health: each worker's circuit opens after `failureThreshold` consecutive failed requests
 * (transport errors, timeouts, 5xx, broken streams, as the request flow reports them through
 * `registry.reportFailure`) and the worker leaves the pools. After `openMs` the circuit turns
 * half-open: the worker is offered again for exactly one request (the registry hands it out once),
 * and an active health check, if they run, probes it too. The first verdict decides: a success
 * closes the circuit, a failure reopens it for another `openMs`. Any success resets the streak.
 *
 * The per-request work is a counter reset on success; state lives on the Worker so nothing is
 * looked up. Reports about removed workers are ignored (their successor starts closed).
 *
 * @example
 * const breaker = new CircuitBreaker({ registry, failureThreshold: 5, openMs: 10_000, metrics, log });
 * registry.setOutcomeListener(breaker);
 */
export class CircuitBreaker implements WorkerOutcomeListener {
  readonly #options: CircuitBreakerOptions;
  readonly #timers = new Map<Worker, NodeJS.Timeout>();
  readonly #unsubscribe: () => void;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#unsubscribe = options.registry.onChange((event, worker) => {
      if (event === 'removed') this.#clearTimer(worker);
    });
  }

  reportSuccess(worker: Worker): void {
    worker.failureStreak = 0;
    // A success in the open state comes from a request sent before the circuit opened: the
    // failures since then still stand, so only the half-open probe closes.
    if (worker.circuit === 'half_open' && !worker.removed) this.#close(worker, 'probe request succeeded');
  }

  reportFailure(worker: Worker, kind: UpstreamErrorKind): void {
    if (worker.removed) return;
    if (worker.circuit === 'half_open') {
      this.#open(worker, `probe request failed (${kind})`);
      return;
    }
    if (worker.circuit === 'open') return;
    worker.failureStreak += 1;
    if (worker.failureStreak >= this.#options.failureThreshold) {
      this.#open(worker, `${worker.failureStreak} consecutive failed requests (last: ${kind})`);
    }
  }

  /** An active health check's result: only a half-open circuit listens (it is a probe). */
  probeResult(worker: Worker, ok: boolean): void {
    if (worker.removed || worker.circuit !== 'half_open') return;
    if (ok) this.#close(worker, 'health check succeeded');
    else this.#open(worker, 'health check failed');
  }

  /** Clears every timer (the router is closing). */
  stop(): void {
    this.#unsubscribe();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #open(worker: Worker, why: string): void {
    const { registry, openMs, metrics, log } = this.#options;
    this.#clearTimer(worker);
    registry.setCircuit(worker, 'open');
    metrics.circuitTransition(worker.role, 'open');
    log.warn({ worker: worker.url, role: worker.role, openMs }, `circuit opened: ${why}`);
    const timer = setTimeout(() => this.#halfOpen(worker), openMs);
    timer.unref();
    this.#timers.set(worker, timer);
  }

  #halfOpen(worker: Worker): void {
    this.#timers.delete(worker);
    if (worker.removed || worker.circuit !== 'open') return;
    this.#options.registry.setCircuit(worker, 'half_open');
    this.#options.metrics.circuitTransition(worker.role, 'half_open');
    this.#options.log.info(
      { worker: worker.url, role: worker.role },
      'circuit half-open: next request probes',
    );
  }

  #close(worker: Worker, why: string): void {
    this.#clearTimer(worker);
    worker.failureStreak = 0;
    this.#options.registry.setCircuit(worker, 'closed');
    this.#options.metrics.circuitTransition(worker.role, 'closed');
    this.#options.log.info({ worker: worker.url, role: worker.role }, `circuit closed: ${why}`);
  }

  #clearTimer(worker: Worker): void {
    const timer = this.#timers.get(worker);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(worker);
  }
}
