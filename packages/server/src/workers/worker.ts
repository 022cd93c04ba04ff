import type { WorkerAddress } from '@pd-router/core';
import type { Dispatcher } from 'undici';
import type { HealthContext } from '../health/worker-health.js';
import { WorkerHealth } from '../health/worker-health.js';
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
  /** The registry's shared health rules. */
  readonly healthContext: HealthContext;
  /** No traffic until the worker has answered a health check (workers from discovery and the admin API). */
  readonly pending?: boolean;
  /** `--intra-node-data-parallel-size` > 1: the vLLM data-parallel rank this worker stands for. */
  readonly dpRank?: number;
}

/**
 * A worker's name: its URL, with `@rank` for one data-parallel rank of an instance (vllm-router's
 * form), so that each rank is a worker of its own for policies, metrics and /workers.
 */
export function workerName(url: string, dpRank: number | undefined): string {
  return dpRank === undefined ? url : `${url}@${dpRank}`;
}

/**
 * One prefill or decode worker and its live state. Policies see it through WorkerView; only the
 * registry changes `inFlight`, and only `health` (through the registry) its health.
 */
export class Worker implements WorkerView {
  readonly id: string;
  readonly role: WorkerRole;
  /** The worker's name (`workerName`): its URL, plus `@rank` with data parallelism. Requests go to `address.url`. */
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
  readonly dpRank: number | undefined;
  inFlight = 0;
  /** Checks, circuit, admission and draining: the one place a worker's health lives. */
  readonly health: WorkerHealth;
  /** When a discovery source last confirmed the worker (epoch ms); undefined for static and admin workers. */
  lastSeen: number | undefined = undefined;
  /** Removed from the registry; its pool is released once inFlight reaches 0. */
  removed = false;

  constructor(init: WorkerInit) {
    this.role = init.role;
    this.url = workerName(init.address.url, init.dpRank);
    this.id = `${init.role}:${this.url}`;
    this.dpRank = init.dpRank;
    this.spec = init.spec;
    this.address = init.address;
    this.source = init.source;
    this.ordinal = init.ordinal;
    this.label = `${init.role} worker #${init.ordinal}`;
    this.pool = init.pool;
    this.headers = init.headers;
    this.metrics = init.metrics;
    this.health = new WorkerHealth(init.healthContext, this, init.pending === true);
  }

  /** Eligible for new requests. */
  get available(): boolean {
    return this.health.routable && !this.removed;
  }

  /** Checks, admission and circuit let requests through (read from `health`). */
  get healthy(): boolean {
    return this.health.healthy;
  }

  /** No new requests; in-flight ones finish (read from `health`). */
  get draining(): boolean {
    return this.health.draining;
  }

  get circuit(): CircuitState {
    return this.health.circuit;
  }
}
