import { Counter, Gauge, type Registry } from 'prom-client';
import type { CircuitState, WorkerRole } from './worker.js';

/** A dynamic source of workers, as the `source` label says it. */
export type DiscoverySource = 'zmq' | 'kubernetes';

/**
 * Why a discovered worker left: silent past its TTL, pod deleted, pod not ready, pod no longer
 * matching the selectors, or re-announced with new addresses.
 */
export type RemovalReason = 'expired' | 'deleted' | 'not_ready' | 'unselected' | 'replaced';

/** Why a registration (or a pod) was refused. */
export type RejectReason =
  | 'frames'
  | 'not_msgpack'
  | 'not_a_map'
  | 'unknown_type'
  | 'bad_http_address'
  | 'bad_zmq_address'
  | 'not_allowed'
  | 'bad_annotation'
  | 'rate_limited'
  | 'max_workers';

const CIRCUIT_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

/** The subset of a worker the circuit gauge reads. */
interface CircuitWorker {
  readonly role: WorkerRole;
  readonly url: string;
  readonly circuit: CircuitState;
}

/**
 * Metrics of dynamic workers: discovery (registrations, removals, refusals, watch errors), active
 * health transitions and checks, and circuit breakers. They live in the router's own Prometheus
 * registry, beside RouterMetrics; nothing here is on the request path.
 *
 * @example
 * const m = new DynamicWorkerMetrics(routerMetrics.registry, registry);
 * m.registration('zmq', 'decode');
 */
export class DynamicWorkerMetrics {
  readonly #registrations: Counter<'source' | 'role'>;
  readonly #removals: Counter<'source' | 'role' | 'reason'>;
  readonly #rejected: Counter<'source' | 'reason'>;
  readonly #heartbeats: Counter<'source'>;
  readonly #errors: Counter<'source'>;
  readonly #transitions: Counter<'role' | 'to'>;
  readonly #checks: Counter<'role' | 'result'>;
  readonly #circuitTransitions: Counter<'role' | 'to'>;
  readonly #panics: Counter<'role'>;

  constructor(
    register: Registry,
    workers: { list(): readonly CircuitWorker[]; panicking(role: WorkerRole): boolean },
  ) {
    const registers = [register];
    this.#registrations = new Counter({
      name: 'pd_router_discovery_registrations_total',
      help: 'Workers that joined through a discovery source.',
      labelNames: ['source', 'role'],
      registers,
    });
    this.#removals = new Counter({
      name: 'pd_router_discovery_removals_total',
      help: 'Discovered workers that left, by reason (expired: silent past the registration TTL).',
      labelNames: ['source', 'role', 'reason'],
      registers,
    });
    this.#rejected = new Counter({
      name: 'pd_router_discovery_rejected_total',
      help: 'Registrations (or pods) refused, by reason.',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.#heartbeats = new Counter({
      name: 'pd_router_discovery_heartbeats_total',
      help: 'Accepted registration messages (new workers and refreshes).',
      labelNames: ['source'],
      registers,
    });
    this.#errors = new Counter({
      name: 'pd_router_discovery_errors_total',
      help: 'Discovery source failures (socket errors, failed Kubernetes list or watch calls).',
      labelNames: ['source'],
      registers,
    });
    this.#transitions = new Counter({
      name: 'pd_router_worker_health_transitions_total',
      help: 'Active health check verdict changes, by the state entered.',
      labelNames: ['role', 'to'],
      registers,
    });
    this.#checks = new Counter({
      name: 'pd_router_health_checks_total',
      help: 'Active health checks, by result.',
      labelNames: ['role', 'result'],
      registers,
    });
    this.#circuitTransitions = new Counter({
      name: 'pd_router_circuit_transitions_total',
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['role', 'to'],
      registers,
    });
    this.#panics = new Counter({
      name: 'pd_router_pool_panics_total',
      help: "Times a pool entered panic mode: every worker's circuit open, so it routes to the least-failing ones.",
      labelNames: ['role'],
      registers,
    });
    new Gauge({
      name: 'pd_router_pool_panic',
      help: '1 while the pool is in panic mode (routing to workers whose circuits are open).',
      labelNames: ['role'],
      registers,
      collect() {
        for (const role of ['prefill', 'decode'] as const)
          this.labels(role).set(workers.panicking(role) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'pd_router_worker_circuit_state',
      help: 'Circuit breaker state per worker: 0 closed, 1 half-open, 2 open.',
      labelNames: ['role', 'worker'],
      registers,
      collect() {
        this.reset();
        for (const w of workers.list()) this.labels(w.role, w.url).set(CIRCUIT_VALUE[w.circuit]);
      },
    });
  }

  registration(source: DiscoverySource, role: WorkerRole): void {
    this.#registrations.labels(source, role).inc();
  }

  removal(source: DiscoverySource, role: WorkerRole, reason: RemovalReason): void {
    this.#removals.labels(source, role, reason).inc();
  }

  rejected(source: DiscoverySource, reason: RejectReason): void {
    this.#rejected.labels(source, reason).inc();
  }

  heartbeat(source: DiscoverySource): void {
    this.#heartbeats.labels(source).inc();
  }

  error(source: DiscoverySource): void {
    this.#errors.labels(source).inc();
  }

  healthTransition(role: WorkerRole, healthy: boolean): void {
    this.#transitions.labels(role, healthy ? 'healthy' : 'unhealthy').inc();
  }

  healthCheck(role: WorkerRole, ok: boolean): void {
    this.#checks.labels(role, ok ? 'ok' : 'failed').inc();
  }

  circuitTransition(role: WorkerRole, to: CircuitState): void {
    this.#circuitTransitions.labels(role, to).inc();
  }

  poolPanic(role: WorkerRole): void {
    this.#panics.labels(role).inc();
  }
}
