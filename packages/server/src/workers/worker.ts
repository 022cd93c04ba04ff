import type { WorkerAddress } from '@pd-router/core';
import type { Dispatcher } from 'undici';
import type { WorkerMetrics } from '../metrics.js';
import type { WorkerView } from '../policies/types.js';
import type { HeaderTemplate } from '../upstream/headers.js';

export type WorkerRole = 'prefill' | 'decode';

/**
 * Where a worker came from: the command line or config file, vLLM's ZMQ registration
 * (`discovery`), a Kubernetes pod, or the admin API.
 */
export type WorkerSourceKind = 'static' | 'discovery' | 'kubernetes' | 'admin';

/**
 * Passive health: `closed` lets requests through; `open` keeps the worker out after consecutive
 * failures; `half_open` lets one probe through, whose outcome closes or reopens the circuit.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface WorkerInit {
  readonly role: WorkerRole;
  readonly spec: string;
  readonly address: WorkerAddress;
  readonly source: WorkerSourceKind;
  /** 1-based, per role, never reused: names the worker in client-facing messages. */
  readonly ordinal: number;
  readonly pool: Dispatcher;
  /** Upstream header list for this worker (Host differs per worker), see upstream/headers.ts. */
  readonly headers: HeaderTemplate;
  readonly metrics: WorkerMetrics;
}

/**
 * One prefill or decode worker and its live state. Policies see it through WorkerView; only the
 * registry changes `inFlight`, `healthy` and `draining`.
 */
export class Worker implements WorkerView {
  readonly id: string;
  readonly role: WorkerRole;
  readonly url: string;
  readonly spec: string;
  readonly address: WorkerAddress;
  readonly source: WorkerSourceKind;
  readonly ordinal: number;
  /** "prefill worker #1": what client-facing errors say instead of an internal address. */
  readonly label: string;
  readonly pool: Dispatcher;
  readonly headers: HeaderTemplate;
  readonly metrics: WorkerMetrics;
  inFlight = 0;
  /**
   * Eligible as far as health goes: the active checks say so and the circuit lets requests
   * through. Derived by the registry from the fields below; never set directly.
   */
  healthy = true;
  /** The active health checks' verdict (true until they say otherwise). */
  checkHealthy = true;
  /** Circuit breaker state; changed only by the breaker, through the registry. */
  circuit: CircuitState = 'closed';
  /** Consecutive failed requests, the breaker's input. */
  failureStreak = 0;
  /** Half-open: the one probe request has been handed out and has not reported yet. */
  probeTaken = false;
  /** When a discovery source last confirmed the worker (epoch ms); undefined for static and admin workers. */
  lastSeen: number | undefined = undefined;
  /** Draining: no new requests; in-flight ones finish. */
  draining = false;
  /** Removed from the registry; its pool is released once inFlight reaches 0. */
  removed = false;

  constructor(init: WorkerInit) {
    this.role = init.role;
    this.url = init.address.url;
    this.id = `${init.role}:${init.address.url}`;
    this.spec = init.spec;
    this.address = init.address;
    this.source = init.source;
    this.ordinal = init.ordinal;
    this.label = `${init.role} worker #${init.ordinal}`;
    this.pool = init.pool;
    this.headers = init.headers;
    this.metrics = init.metrics;
  }

  /** Eligible for new requests. */
  get available(): boolean {
    return this.healthy && !this.draining && !this.removed;
  }
}
