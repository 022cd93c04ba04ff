import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamErrorKind } from '../metrics.js';
import type { CircuitState, WorkerRole } from '../workers/worker.js';

/** The circuit breaker's settings; absent from the context: no breaker. */
export interface CircuitRules {
  /** Consecutive failed requests, all within `windowMs`, that open the circuit (>= 1). */
  readonly failureThreshold: number;
  /** Successful probes (requests or health checks) that close a half-open circuit (>= 1). */
  readonly successThreshold: number;
  /** How long an open circuit keeps its worker out before probing it. */
  readonly openMs: number;
  /** A failure older than this no longer counts toward opening. */
  readonly windowMs: number;
}

/** The active checks' thresholds. */
export interface CheckRules {
  /** Consecutive failed checks that take a worker out. */
  readonly failureThreshold: number;
  /** Consecutive good checks that bring it back. */
  readonly successThreshold: number;
}

/** Where health transitions are counted (DynamicWorkerMetrics). */
export interface HealthEvents {
  circuitTransition(role: WorkerRole, to: CircuitState): void;
  healthTransition(role: WorkerRole, healthy: boolean): void;
  healthCheck(role: WorkerRole, ok: boolean): void;
}

/** What a WorkerHealth belongs to: its worker's role and URL name it in logs. */
export interface HealthSubject {
  readonly role: WorkerRole;
  readonly url: string;
}

/**
 * Shared by every worker's health in one registry: the rules in force (set once dynamic workers
 * are installed), where transitions are counted and logged, and whom to tell when a worker's
 * routability changes.
 */
export interface HealthContext {
  circuit: CircuitRules | undefined;
  checks: CheckRules;
  events: HealthEvents | undefined;
  log: FastifyBaseLogger | undefined;
  /**
   * `routable` flipped (`true`), or only what panic mode reads changed (`false`: whether the
   * circuit alone holds the worker out, or the failure streak of a worker whose circuit is not closed).
   */
  changed(subject: HealthSubject, routability: boolean): void;
}

export const DEFAULT_CHECK_RULES: CheckRules = { failureThreshold: 3, successThreshold: 2 };

/**
 * A worker's health, in one place: the active checks' verdict, its circuit, whether it still
 * awaits its first health check (a discovered worker), and draining. This object is the only
 * writer of that state; the request flow, the health checker and the admin API report to it
 * through the registry, and everything else reads it. The registry's pools are a cache rebuilt
 * when `routable` changes.
 *
 * Circuit: closed lets requests through; `failureThreshold` consecutive failures within
 * `windowMs` open it, and the worker is out for `openMs`; then half-open, it is offered for one
 * probe request at a time (and a health check is a probe too): `successThreshold` good probes
 * close it, a failed one reopens it. A success in the open state (a request sent before it opened,
 * or routed in panic mode) resets the streak but does not close: the timer still runs.
 *
 * The per-request cost of a healthy worker is one comparison on success and nothing else.
 */
export class WorkerHealth {
  readonly #ctx: HealthContext;
  readonly #subject: HealthSubject;
  #checkHealthy = true;
  #checkSuccesses = 0;
  #checkFailures = 0;
  #pending: boolean;
  #circuit: CircuitState = 'closed';
  #streak = 0;
  /** performance.now() of the streak's last `failureThreshold` failures, oldest first. */
  #streakTimes: number[] = [];
  #probeSuccesses = 0;
  #probeTaken = false;
  #timer: NodeJS.Timeout | undefined;
  #draining = false;
  /** The KV connector can use the worker (false: a Mooncake prefill whose engine ids are unknown). */
  #kvReady = true;
  #healthy: boolean;
  #routable: boolean;
  #heldOut = false;

  /** `pending`: no traffic until the worker has answered a health check (discovered workers). */
  constructor(ctx: HealthContext, subject: HealthSubject, pending = false) {
    this.#ctx = ctx;
    this.#subject = subject;
    this.#pending = pending;
    this.#healthy = !pending;
    this.#routable = !pending;
  }

  /** The active checks' verdict (true until they say otherwise). */
  get checkHealthy(): boolean {
    return this.#checkHealthy;
  }

  /** Waiting for its first good health check before it gets traffic. */
  get pending(): boolean {
    return this.#pending;
  }

  get circuit(): CircuitState {
    return this.#circuit;
  }

  /** Consecutive failed requests (any age; the window applies when deciding to open). */
  get failureStreak(): number {
    return this.#streak;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get kvReady(): boolean {
    return this.#kvReady;
  }

  /** Checks, admission and circuit let requests through (draining aside). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Gets new requests: healthy and not draining. */
  get routable(): boolean {
    return this.#routable;
  }

  /**
   * Out of its pool only because its circuit is not letting requests through: a pool with no
   * routable worker may still use it (panic mode, see the registry).
   */
  get heldOutByCircuit(): boolean {
    return this.#heldOut;
  }

  /** A call got an answer (any status below 500). */
  requestSucceeded(): void {
    if (this.#streak === 0 && this.#circuit === 'closed') return;
    this.#resetStreak();
    if (this.#circuit === 'half_open') this.#probeSucceeded('probe requests succeeded');
  }

  /** A call failed (transport error, timeout, 5xx, broken stream, unusable answer). */
  requestFailed(kind: UpstreamErrorKind): void {
    const rules = this.#ctx.circuit;
    if (rules === undefined) return;
    const now = performance.now();
    this.#streak += 1;
    this.#streakTimes.push(now);
    if (this.#streakTimes.length > rules.failureThreshold) this.#streakTimes.shift();
    if (this.#circuit === 'half_open') {
      this.#open(`probe request failed (${kind})`);
      return;
    }
    if (this.#circuit === 'open') {
      this.#ctx.changed(this.#subject, false);
      return;
    }
    const oldest = this.#streakTimes[0] ?? now;
    if (this.#streakTimes.length >= rules.failureThreshold && now - oldest <= rules.windowMs) {
      const within = Number.isFinite(rules.windowMs) ? ` within ${Math.ceil(rules.windowMs / 1_000)} s` : '';
      this.#open(`${this.#streakTimes.length} consecutive failed requests${within} (last: ${kind})`);
    }
  }

  /** One active health check's result; `detail` says why a failed one failed. */
  checkResult(ok: boolean, detail?: string): void {
    const { events, log, checks } = this.#ctx;
    const { role, url } = this.#subject;
    events?.healthCheck(role, ok);
    if (ok) {
      this.#checkFailures = 0;
      this.#checkSuccesses += 1;
      if (this.#pending) {
        this.#pending = false;
        log?.info({ worker: url, role }, 'worker answered its health check; it joins the pools');
      } else if (!this.#checkHealthy && this.#checkSuccesses >= checks.successThreshold) {
        this.#checkHealthy = true;
        events?.healthTransition(role, true);
        log?.info(
          { worker: url, role },
          `worker healthy again after ${this.#checkSuccesses} good health checks`,
        );
      }
    } else if (!this.#pending) {
      this.#checkSuccesses = 0;
      this.#checkFailures += 1;
      if (this.#checkHealthy && this.#checkFailures >= checks.failureThreshold) {
        this.#checkHealthy = false;
        events?.healthTransition(role, false);
        log?.warn(
          { worker: url, role, detail },
          `worker unhealthy after ${this.#checkFailures} failed health checks; it leaves the pools`,
        );
      }
    }
    // A half-open circuit takes a health check as a probe; an open one waits for its timer.
    if (this.#circuit === 'half_open') {
      if (ok) this.#probeSucceeded('health checks succeeded');
      else this.#open('health check failed');
    }
    this.#update();
  }

  /** Sets the checks' verdict directly (an operator's or a test's override). */
  setCheckHealthy(healthy: boolean): void {
    this.#checkHealthy = healthy;
    this.#checkSuccesses = 0;
    this.#checkFailures = 0;
    this.#update();
  }

  setDraining(draining: boolean): void {
    this.#draining = draining;
    this.#update();
  }

  /** Whether the KV connector can use the worker yet (Mooncake: its engine ids are known). */
  setKvReady(ready: boolean): void {
    this.#kvReady = ready;
    this.#update();
  }

  /** A request was routed here: a half-open circuit's probe is now out (no second one). */
  acquired(): void {
    if (this.#circuit === 'half_open' && !this.#probeTaken) {
      this.#probeTaken = true;
      this.#update();
    }
  }

  /** A request ended: if it was the probe and gave no verdict (the client left), the next one probes. */
  released(): void {
    if (this.#probeTaken && this.#circuit === 'half_open') {
      this.#probeTaken = false;
      this.#update();
    }
  }

  /** Starts over as a new static worker would: a worker that rejoined after leaving. */
  reset(): void {
    this.dispose();
    this.#checkHealthy = true;
    this.#checkSuccesses = 0;
    this.#checkFailures = 0;
    this.#pending = false;
    this.#circuit = 'closed';
    this.#resetStreak();
    this.#probeSuccesses = 0;
    this.#probeTaken = false;
    this.#draining = false;
    this.#kvReady = true;
    this.#healthy = true;
    this.#routable = true;
    this.#heldOut = false;
  }

  /** Drops the open circuit's timer (the worker left, or the router closes). */
  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #resetStreak(): void {
    const was = this.#streak;
    this.#streak = 0;
    this.#streakTimes.length = 0;
    if (was !== 0 && this.#circuit !== 'closed') this.#ctx.changed(this.#subject, false);
  }

  #probeSucceeded(what: string): void {
    this.#probeSuccesses += 1;
    const needed = this.#ctx.circuit?.successThreshold ?? 1;
    if (this.#probeSuccesses >= needed) this.#close(`${this.#probeSuccesses} ${what}`);
  }

  #open(why: string): void {
    const rules = this.#ctx.circuit;
    if (rules === undefined) return;
    const { role, url } = this.#subject;
    // Logged first: the pool change it causes (maybe panic mode) is logged by the transition.
    this.#ctx.log?.warn({ worker: url, role, openMs: rules.openMs }, `circuit opened: ${why}`);
    this.#transition('open');
    this.#timer = setTimeout(() => this.#halfOpen(), rules.openMs);
    this.#timer.unref();
  }

  #halfOpen(): void {
    this.#timer = undefined;
    if (this.#circuit !== 'open') return;
    this.#ctx.log?.info(
      { worker: this.#subject.url, role: this.#subject.role },
      'circuit half-open: next request probes',
    );
    this.#transition('half_open');
  }

  #close(why: string): void {
    this.#ctx.log?.info({ worker: this.#subject.url, role: this.#subject.role }, `circuit closed: ${why}`);
    this.#resetStreak();
    this.#transition('closed');
  }

  /** Every circuit change: a new state clears the probe and its count, and the timer. */
  #transition(to: CircuitState): void {
    this.dispose();
    this.#circuit = to;
    this.#probeTaken = false;
    this.#probeSuccesses = 0;
    this.#ctx.events?.circuitTransition(this.#subject.role, to);
    this.#update();
  }

  /** Recomputes the derived flags; tells the registry when routability changed. */
  #update(): void {
    const circuitLets = this.#circuit === 'closed' || (this.#circuit === 'half_open' && !this.#probeTaken);
    this.#healthy = this.#checkHealthy && !this.#pending && this.#kvReady && circuitLets;
    const routable = this.#healthy && !this.#draining;
    const heldOut =
      !routable &&
      this.#circuit !== 'closed' &&
      this.#checkHealthy &&
      !this.#pending &&
      this.#kvReady &&
      !this.#draining;
    const heldOutChanged = heldOut !== this.#heldOut;
    this.#heldOut = heldOut;
    if (routable !== this.#routable) {
      this.#routable = routable;
      this.#ctx.changed(this.#subject, true);
    } else if (heldOutChanged) this.#ctx.changed(this.#subject, false);
  }
}
