import type { Worker } from '../workers/worker.js';

/** A worker's state as the admin API shows it. */
export interface AdminWorkerView {
  readonly id: string;
  readonly role: Worker['role'];
  readonly url: string;
  readonly zmq: string;
  readonly source: Worker['source'];
  /** Gets new requests now: healthy, circuit letting requests through, not draining. */
  readonly available: boolean;
  /** Active health checks' verdict. */
  readonly healthy: boolean;
  /** Added by discovery or the admin API and not yet answered a health check: no traffic yet. */
  readonly pending: boolean;
  /** The KV connector can use it (false: a Mooncake prefill whose engine ids are not known yet). */
  readonly kvReady: boolean;
  readonly circuit: Worker['circuit'];
  readonly failureStreak: number;
  readonly draining: boolean;
  readonly inFlight: number;
  /** ISO time a discovery source last confirmed it; null for static and admin workers. */
  readonly lastSeen: string | null;
}

/** The admin view of one worker. */
export function adminWorkerView(worker: Worker): AdminWorkerView {
  return {
    id: worker.id,
    role: worker.role,
    url: worker.url,
    zmq: worker.address.zmq.text,
    source: worker.source,
    available: worker.available,
    healthy: worker.health.checkHealthy,
    pending: worker.health.pending,
    kvReady: worker.health.kvReady,
    circuit: worker.health.circuit,
    failureStreak: worker.health.failureStreak,
    draining: worker.draining,
    inFlight: worker.inFlight,
    lastSeen: worker.lastSeen === undefined ? null : new Date(worker.lastSeen).toISOString(),
  };
}

/** JSON schema of AdminWorkerView (fast serialization, and the admin API's documentation). */
export const adminWorkerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    role: { type: 'string' },
    url: { type: 'string' },
    zmq: { type: 'string' },
    source: { type: 'string' },
    available: { type: 'boolean' },
    healthy: { type: 'boolean' },
    pending: { type: 'boolean' },
    kvReady: { type: 'boolean' },
    circuit: { type: 'string' },
    failureStreak: { type: 'integer' },
    draining: { type: 'boolean' },
    inFlight: { type: 'integer' },
    lastSeen: { type: ['string', 'null'] },
  },
} as const;
