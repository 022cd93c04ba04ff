import type { WorkerAddress } from '@pd-router/core';
import type { RouterMetrics, UpstreamErrorKind } from '../metrics.js';
import type { WorkerView } from '../policies/types.js';
import {
  postHeaderTemplate,
  REFERENCE_PROXY_HEADER_ORDER,
  type UpstreamHeaderName,
} from '../upstream/headers.js';
import type { PoolSet } from '../upstream/pools.js';
import { type CircuitState, Worker, type WorkerRole, type WorkerSourceKind } from './worker.js';

export interface WorkerRegistryOptions {
  readonly pools: PoolSet;
  readonly metrics: RouterMetrics;
  /** The upstream `Authorization` value, resolved once. */
  readonly authorization: string;
  readonly userAgent: string;
  /** The upstream header order: the KV connector's reference proxy's (default: vLLM's P2P NCCL proxy). */
  readonly headerOrder?: readonly UpstreamHeaderName[];
}

export interface AddWorker {
  readonly role: WorkerRole;
  readonly spec: string;
  readonly address: WorkerAddress;
  readonly source?: WorkerSourceKind;
}

export type RegistryEvent = 'added' | 'removed' | 'changed';
export type RegistryListener = (event: RegistryEvent, worker: Worker) => void;

/**
 * What the request flow reports about each upstream call: the circuit breaker's input (see
 * health/circuit-breaker.ts). `kind` says what went wrong, as counted in the upstream-error metric.
 */
export interface WorkerOutcomeListener {
  reportSuccess(worker: Worker): void;
  reportFailure(worker: Worker, kind: UpstreamErrorKind): void;
}

const IGNORE_OUTCOMES: WorkerOutcomeListener = {
  reportSuccess() {},
  reportFailure() {},
};

/**
 * The set of workers and their live state (in-flight counts, health, draining). The request flow
 * only asks for `available(role)`, calls `acquire`/`release`, and reports each call's outcome
 * (`reportSuccess`/`reportFailure`, the circuit breaker's input); everything that changes the set
 * (static config, ZMQ registration, Kubernetes, health checks, circuit breakers, the admin API)
 * goes through `add`, `remove`, `setHealthy`, `setCircuit` and `drain`.
 *
 * `available(role)` returns a cached array, rebuilt only when the set or a flag changes: the hot
 * path allocates nothing here.
 *
 * @example
 * const w = registry.add({ role: 'prefill', spec, address });
 * registry.setHealthy(w.id, false);
 */
export class WorkerRegistry {
  readonly #options: WorkerRegistryOptions;
  readonly #workers = new Map<string, Worker>();
  /** Removed workers whose requests are still running, by id: a rejoin with the same address revives one. */
  readonly #departed = new Map<string, Worker>();
  readonly #ordinals = { prefill: 0, decode: 0 };
  #available: { prefill: readonly Worker[]; decode: readonly Worker[] } = { prefill: [], decode: [] };
  #all: readonly Worker[] = [];
  readonly #listeners = new Set<RegistryListener>();
  #outcomes: WorkerOutcomeListener = IGNORE_OUTCOMES;

  constructor(options: WorkerRegistryOptions) {
    this.#options = options;
  }

  /** Adds a worker; adding the same role + URL again returns the existing one (a refresh). */
  add(init: AddWorker): Worker {
    const id = `${init.role}:${init.address.url}`;
    const existing = this.#workers.get(id);
    if (existing !== undefined) return existing;
    const departed = this.#departed.get(id);
    if (departed !== undefined && sameAddress(departed.address, init.address)) return this.#revive(departed);
    const { pools, metrics, authorization, userAgent, headerOrder } = this.#options;
    this.#ordinals[init.role] += 1;
    const view = { role: init.role, url: init.address.url, inFlight: 0, healthy: true };
    const worker = new Worker({
      role: init.role,
      spec: init.spec,
      address: init.address,
      source: init.source ?? 'static',
      ordinal: this.#ordinals[init.role],
      pool: pools.acquire(origin(init.address.url)),
      headers: postHeaderTemplate(
        headerOrder ?? REFERENCE_PROXY_HEADER_ORDER,
        init.address.hostHeader,
        authorization,
        userAgent,
      ),
      metrics: metrics.bindWorker(view),
    });
    this.#workers.set(id, worker);
    this.#rebuild();
    this.#emit('added', worker);
    return worker;
  }

  get(id: string): Worker | undefined {
    return this.#workers.get(id);
  }

  /** The registry's worker behind a view a policy returned. */
  resolve(view: WorkerView): Worker {
    if (view instanceof Worker) return view;
    const worker = this.#workers.get(view.id);
    if (worker === undefined) throw new Error(`policy returned an unknown worker ${view.id}`);
    return worker;
  }

  /** Every worker, in registration order (flag order for static workers). */
  list(): readonly Worker[] {
    return this.#all;
  }

  /** Healthy, non-draining workers of a role, in registration order. Cached; do not mutate. */
  available(role: WorkerRole): readonly Worker[] {
    return this.#available[role];
  }

  acquire(worker: Worker): void {
    worker.inFlight += 1;
    // A half-open circuit lets exactly one probe through: this request. Synchronous with the
    // policy's choice, so no other request can have picked the worker in between.
    if (worker.circuit === 'half_open' && !worker.probeTaken) {
      worker.probeTaken = true;
      this.#refresh(worker);
    }
  }

  release(worker: Worker): void {
    worker.inFlight -= 1;
    // The probe ended without a verdict (the client left, or the other leg failed first): let
    // the next request probe instead.
    if (worker.probeTaken && worker.circuit === 'half_open') {
      worker.probeTaken = false;
      this.#refresh(worker);
    }
    if (worker.removed && worker.inFlight === 0) this.#depart(worker);
  }

  /** The flow reports a call that got an answer (any status below 500): the circuit's success input. */
  reportSuccess(worker: Worker): void {
    this.#outcomes.reportSuccess(worker);
  }

  /**
   * The flow reports a failed call (transport error, timeout, 5xx, broken stream): counted in
   * `pd_router_upstream_errors_total{kind}` and the circuit's failure input, in one call.
   */
  reportFailure(worker: Worker, kind: UpstreamErrorKind): void {
    worker.metrics.error(kind);
    this.#outcomes.reportFailure(worker, kind);
  }

  /** Routes reportSuccess/reportFailure to the circuit breaker (default: ignored). */
  setOutcomeListener(listener: WorkerOutcomeListener): void {
    this.#outcomes = listener;
  }

  /** The active health checks' verdict on a worker (it leaves the pools while false). */
  setHealthy(id: string, healthy: boolean): void {
    const worker = this.#workers.get(id);
    if (worker === undefined || worker.checkHealthy === healthy) return;
    worker.checkHealthy = healthy;
    this.#refresh(worker);
  }

  /** Moves a worker's circuit (the breaker's only way to change it); a new state clears the probe. */
  setCircuit(worker: Worker, state: CircuitState): void {
    worker.circuit = state;
    worker.probeTaken = false;
    this.#refresh(worker);
  }

  /** Stops sending new requests to the worker; in-flight ones finish. */
  drain(id: string, draining = true): void {
    const worker = this.#workers.get(id);
    if (worker === undefined || worker.draining === draining) return;
    worker.draining = draining;
    this.#rebuild();
    this.#emit('changed', worker);
  }

  /** Removes a worker; its pool closes once its in-flight requests have finished. */
  remove(id: string): boolean {
    const worker = this.#workers.get(id);
    if (worker === undefined) return false;
    this.#workers.delete(id);
    worker.removed = true;
    this.#rebuild();
    this.#emit('removed', worker);
    if (worker.inFlight === 0) void this.#finalize(worker);
    else this.#departed.set(id, worker);
    return true;
  }

  onChange(listener: RegistryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Recomputes `healthy` from the health inputs; rebuilds the pools when it changed. */
  #refresh(worker: Worker): void {
    const circuitLets = worker.circuit === 'closed' || (worker.circuit === 'half_open' && !worker.probeTaken);
    const healthy = worker.checkHealthy && circuitLets;
    if (worker.healthy === healthy) return;
    worker.healthy = healthy;
    // A removed worker (maybe replaced by a newer one with the same id) is in no pool.
    if (this.#workers.get(worker.id) !== worker) return;
    this.#rebuild();
    this.#emit('changed', worker);
  }

  /**
   * A worker that left while requests ran on it and rejoins at the same address (a discovery blip,
   * a pod flapping ready) is the same worker: its in-flight count, pool and metric series carry
   * on, so load-aware policies see its real load instead of a fresh zero.
   */
  #revive(worker: Worker): Worker {
    this.#departed.delete(worker.id);
    worker.removed = false;
    worker.draining = false;
    // Health starts over as for a new worker: the checker and the breaker dropped their timers
    // for it when it left, so an open circuit would otherwise never be probed again.
    worker.checkHealthy = true;
    worker.circuit = 'closed';
    worker.failureStreak = 0;
    worker.probeTaken = false;
    worker.healthy = true;
    this.#workers.set(worker.id, worker);
    this.#rebuild();
    this.#emit('added', worker);
    return worker;
  }

  /** The last request of a removed worker ended. */
  #depart(worker: Worker): void {
    if (this.#departed.get(worker.id) === worker) this.#departed.delete(worker.id);
    void this.#finalize(worker);
  }

  async #finalize(worker: Worker): Promise<void> {
    // A worker that rejoined while this one drained shares its metric series: keep them.
    if (!this.#workers.has(worker.id) && !this.#departed.has(worker.id))
      this.#options.metrics.unbindWorker(worker);
    await this.#options.pools.release(origin(worker.url));
  }

  #rebuild(): void {
    const all = [...this.#workers.values()];
    this.#all = all;
    this.#available = {
      prefill: all.filter((w) => w.role === 'prefill' && w.available),
      decode: all.filter((w) => w.role === 'decode' && w.available),
    };
  }

  #emit(event: RegistryEvent, worker: Worker): void {
    for (const listener of this.#listeners) listener(event, worker);
  }
}

function sameAddress(a: WorkerAddress, b: WorkerAddress): boolean {
  return (
    a.url === b.url && a.hostHeader === b.hostHeader && a.zmq.host === b.zmq.host && a.zmq.port === b.zmq.port
  );
}

/** The Pool origin of a worker URL (scheme, host and port). */
function origin(url: string): string {
  return new URL(url).origin;
}
