import type { WorkerAddress } from '@pd-router/core';
import type { FastifyBaseLogger } from 'fastify';
import {
  type CheckRules,
  type CircuitRules,
  DEFAULT_CHECK_RULES,
  type HealthContext,
  type HealthEvents,
} from '../health/worker-health.js';
import type { RouterMetrics, UpstreamErrorKind } from '../metrics.js';
import type { WorkerView } from '../policies/types.js';
import {
  postHeaderTemplate,
  REFERENCE_PROXY_HEADER_ORDER,
  type UpstreamHeaderName,
} from '../upstream/headers.js';
import type { PoolSet } from '../upstream/pools.js';
import { Worker, type WorkerRole, type WorkerSourceKind, workerName } from './worker.js';

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
  /** One data-parallel rank of the instance (`--intra-node-data-parallel-size`); its legs carry `X-data-parallel-rank`. */
  readonly dpRank?: number;
  /** No traffic until the worker answers a health check (discovered and admin-added workers). */
  readonly pending?: boolean;
}

/** How the registry judges health: set once by installDynamicWorkers. */
export interface HealthSettings {
  /** Absent: no circuit breaker. */
  readonly circuit: CircuitRules | undefined;
  readonly checks: CheckRules;
  readonly events: HealthEvents & PanicEvents;
  readonly log?: FastifyBaseLogger;
}

/** Where pool panics are counted. */
export interface PanicEvents {
  poolPanic(role: WorkerRole): void;
}

export type RegistryEvent = 'added' | 'removed' | 'changed';
export type RegistryListener = (event: RegistryEvent, worker: Worker) => void;

/**
 * The set of workers. The request flow only asks for `available(role)`, calls
 * `acquire`/`release`, and reports each call's outcome (`reportSuccess`, or `reportFailure`,
 * which also counts the upstream-error metric); everything that changes the set (static config,
 * ZMQ registration, Kubernetes, the admin API) goes through `add` and `remove`; health checks
 * report through `checkResult`, the admin API drains through `drain`. Each worker's health state
 * lives in its `health` (health/worker-health.ts), which these calls feed.
 *
 * `available(role)` returns a cached array, rebuilt only when the set or a worker's routability
 * changes: the hot path allocates nothing here. When the circuit breaker alone would leave a pool
 * empty, the pool holds its least-failing workers instead (panic mode, as Envoy's panic
 * threshold): the breaker protects a pool from its worst workers, never from having any.
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
  readonly #health: HealthContext;
  #panicEvents: PanicEvents | undefined;
  readonly #panic = { prefill: false, decode: false };

  constructor(options: WorkerRegistryOptions) {
    this.#options = options;
    this.#health = {
      circuit: undefined,
      checks: DEFAULT_CHECK_RULES,
      events: undefined,
      log: undefined,
      changed: (subject, routability) => this.#healthChanged(subject as Worker, routability),
    };
  }

  /** Sets how health is judged (the breaker's and checks' thresholds) and where it is reported. */
  configureHealth(settings: HealthSettings): void {
    this.#health.circuit = settings.circuit;
    this.#health.checks = settings.checks;
    this.#health.events = settings.events;
    this.#health.log = settings.log;
    this.#panicEvents = settings.events;
  }

  /** Adds a worker; adding the same role + URL again returns the existing one (a refresh). */
  add(init: AddWorker): Worker {
    const id = `${init.role}:${workerName(init.address.url, init.dpRank)}`;
    const existing = this.#workers.get(id);
    if (existing !== undefined) return existing;
    const departed = this.#departed.get(id);
    if (departed !== undefined && sameAddress(departed.address, init.address)) return this.#revive(departed);
    const { pools, metrics, authorization, userAgent, headerOrder } = this.#options;
    this.#ordinals[init.role] += 1;
    const view = {
      role: init.role,
      url: workerName(init.address.url, init.dpRank),
      inFlight: 0,
      healthy: true,
    };
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
        init.dpRank,
      ),
      metrics: metrics.bindWorker(view),
      healthContext: this.#health,
      pending: init.pending === true,
      ...(init.dpRank === undefined ? {} : { dpRank: init.dpRank }),
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

  /** Workers that came from a discovery source (ZMQ registration or Kubernetes), for their cap. */
  countDiscovered(): number {
    let n = 0;
    for (const w of this.#all) if (w.source === 'discovery' || w.source === 'kubernetes') n += 1;
    return n;
  }

  /** Healthy, non-draining workers of a role, in registration order. Cached; do not mutate. */
  available(role: WorkerRole): readonly Worker[] {
    return this.#available[role];
  }

  acquire(worker: Worker): void {
    worker.inFlight += 1;
    // A half-open circuit lets one probe through: this request. Synchronous with the policy's
    // choice, so no other request can have picked the worker in between.
    worker.health.acquired();
  }

  release(worker: Worker): void {
    worker.inFlight -= 1;
    worker.health.released();
    if (worker.removed && worker.inFlight === 0) this.#depart(worker);
  }

  /** The flow reports a call that got an answer (any status below 500). */
  reportSuccess(worker: Worker): void {
    if (!worker.removed) worker.health.requestSucceeded();
  }

  /**
   * The flow reports a failed call (transport error, timeout, 5xx, broken stream, unusable
   * answer): counted in `pd_router_upstream_errors_total{kind}` and fed to the worker's circuit.
   */
  reportFailure(worker: Worker, kind: UpstreamErrorKind): void {
    worker.metrics.error(kind);
    // A removed worker's successor (same id) starts with a closed circuit.
    if (!worker.removed) worker.health.requestFailed(kind);
  }

  /** One active health check's result. */
  checkResult(worker: Worker, ok: boolean, detail?: string): void {
    if (!worker.removed) worker.health.checkResult(ok, detail);
  }

  /** Sets the active checks' verdict on a worker directly (it leaves the pools while false). */
  setHealthy(id: string, healthy: boolean): void {
    this.#workers.get(id)?.health.setCheckHealthy(healthy);
  }

  /** Whether the KV connector can use a worker yet (Mooncake: engine ids learnt); it leaves the pools while false. */
  setKvReady(id: string, ready: boolean): void {
    this.#workers.get(id)?.health.setKvReady(ready);
  }

  /** Stops sending new requests to the worker; in-flight ones finish. */
  drain(id: string, draining = true): void {
    const worker = this.#workers.get(id);
    if (worker === undefined || worker.draining === draining) return;
    const routable = worker.available;
    worker.health.setDraining(draining);
    // Unchanged routability (an open circuit) emits nothing there, but the admin view did change.
    if (worker.available === routable) this.#emit('changed', worker);
  }

  /** True while the circuit breaker alone would empty the role's pool (see the class comment). */
  panicking(role: WorkerRole): boolean {
    return this.#panic[role];
  }

  /** Drops every open circuit's timer (the router is closing). */
  stopHealth(): void {
    for (const worker of this.#workers.values()) worker.health.dispose();
    for (const worker of this.#departed.values()) worker.health.dispose();
  }

  /** Removes a worker; its pool closes once its in-flight requests have finished. */
  remove(id: string): boolean {
    const worker = this.#workers.get(id);
    if (worker === undefined) return false;
    this.#workers.delete(id);
    worker.removed = true;
    worker.health.dispose();
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

  /** A worker's health changed: rebuild the pools when it matters to them. */
  #healthChanged(worker: Worker, routability: boolean): void {
    // A removed worker (maybe replaced by a newer one with the same id) is in no pool.
    if (this.#workers.get(worker.id) !== worker) return;
    if (routability) {
      this.#rebuild();
      this.#emit('changed', worker);
    } else if (this.#panic[worker.role] || this.#available[worker.role].length === 0) {
      // The pool is (or may go) in panic mode, and who it may use, or the least failing, changed.
      this.#rebuild();
    }
  }

  /**
   * A worker that left while requests ran on it and rejoins at the same address (a discovery blip,
   * a pod flapping ready) is the same worker: its in-flight count, pool and metric series carry
   * on, so load-aware policies see its real load instead of a fresh zero.
   */
  #revive(worker: Worker): Worker {
    this.#departed.delete(worker.id);
    worker.removed = false;
    // Health starts over as for a new worker (closed circuit, healthy checks, not draining): its
    // circuit's timer was dropped when it left, so an open circuit would never be probed again.
    worker.health.reset();
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
    await this.#options.pools.release(origin(worker.address.url));
  }

  #rebuild(): void {
    const all = [...this.#workers.values()];
    this.#all = all;
    this.#available = { prefill: this.#pool(all, 'prefill'), decode: this.#pool(all, 'decode') };
  }

  /**
   * A role's pool: its routable workers; or, when there are none and some are out only because of
   * their circuits, those of them with the shortest failure streak (panic mode).
   */
  #pool(all: readonly Worker[], role: WorkerRole): readonly Worker[] {
    const routable = all.filter((w) => w.role === role && w.available);
    let panic: Worker[] = [];
    if (routable.length === 0) {
      let least = Number.POSITIVE_INFINITY;
      for (const w of all) {
        if (w.role !== role || !w.health.heldOutByCircuit) continue;
        const streak = w.health.failureStreak;
        if (streak < least) {
          least = streak;
          panic = [w];
        } else if (streak === least) panic.push(w);
      }
    }
    this.#setPanic(role, panic, routable.length);
    return panic.length > 0 ? panic : routable;
  }

  #setPanic(role: WorkerRole, workers: readonly Worker[], routable: number): void {
    const panic = workers.length > 0;
    if (panic === this.#panic[role]) return;
    this.#panic[role] = panic;
    const log = this.#health.log;
    if (panic) {
      this.#panicEvents?.poolPanic(role);
      log?.warn(
        { role, workers: workers.map((w) => w.url) },
        `panic mode: every ${role} worker's circuit is open; routing to the least-failing ones instead of emptying the pool`,
      );
    } else {
      log?.info({ role, routable }, `panic mode over for the ${role} pool`);
    }
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
