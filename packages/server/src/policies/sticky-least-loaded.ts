import type { DecidingPolicy, Decision } from './decision.js';
import { hash32 } from './hash.js';
import { rendezvousScore } from './rendezvous-hash.js';
import type { RoutingRequest, WorkerView } from './types.js';

/** vllm-router's default session lifetime since last use (2 h). */
export const DEFAULT_SESSION_TTL_MS = 7_200_000;
/** Expired sessions are swept at most this often (vllm-router: 60 s). */
const SWEEP_INTERVAL_MS = 60_000;
/** Sessions held at most: beyond it the least recently used one is forgotten (memory stays bounded). */
export const DEFAULT_MAX_SESSIONS = 1_000_000;

export interface StickyLeastLoadedOptions {
  /** Monotonic milliseconds; injected for tests. */
  readonly now?: () => number;
  readonly sessionTtlMs?: number;
  readonly maxSessions?: number;
}

interface Session {
  readonly workerId: string;
  lastUsed: number;
}

/** A policy that keeps client sessions (sticky_least_loaded) and can release one early. */
export interface SessionPolicy extends DecidingPolicy {
  /** Forgets a session (vllm-router's `POST /finish_session`); true when it was known. */
  finishSession(sessionId: string): boolean;
  /** Sessions currently held. */
  readonly sessions: number;
}

/**
 * sticky_least_loaded (vllm-router's): a session (RoutingRequest.sessionId(): the session headers,
 * else `session_params.session_id`, `user`, `session_id`, `user_id` in the body) stays on the worker
 * it was first given, so its KV cache is reused; a new session goes to the worker holding the
 * fewest sessions, ties broken by rendezvous hashing of the session id (deterministic). A session
 * whose worker left is given a new one. Sessions end with `finishSession` or after `sessionTtlMs`
 * unused; at most `maxSessions` are held (the least recently used goes first). Requests without a
 * session id go to the least-loaded worker and are not recorded.
 *
 * @example
 * const sll = createStickyLeastLoadedPolicy();
 * sll.pick(workers, request); // same worker for the same x-session-id
 * sll.finishSession('session-42');
 */
export function createStickyLeastLoadedPolicy(options: StickyLeastLoadedOptions = {}): SessionPolicy {
  const now = options.now ?? (() => performance.now());
  const ttlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  /** In least-recently-used order: a use moves a session to the end. */
  const sessions = new Map<string, Session>();
  const counts = new Map<string, number>();
  let sweptAt = now();

  const release = (session: Session): void => {
    const left = (counts.get(session.workerId) ?? 1) - 1;
    if (left <= 0) counts.delete(session.workerId);
    else counts.set(session.workerId, left);
  };

  const sweep = (at: number): void => {
    if (at - sweptAt < SWEEP_INTERVAL_MS) return;
    sweptAt = at;
    for (const [id, session] of sessions) {
      // LRU order: the first session still in use ends the sweep.
      if (at - session.lastUsed < ttlMs) break;
      sessions.delete(id);
      release(session);
    }
  };

  const leastLoaded = (workers: readonly WorkerView[], tieKey: string): WorkerView => {
    let min = Number.POSITIVE_INFINITY;
    for (const worker of workers) min = Math.min(min, counts.get(worker.id) ?? 0);
    const key = hash32(tieKey);
    let best: WorkerView | undefined;
    let bestScore = -1;
    for (const worker of workers) {
      if ((counts.get(worker.id) ?? 0) !== min) continue;
      const score = rendezvousScore(key, hash32(worker.id));
      if (score > bestScore || (score === bestScore && best !== undefined && worker.id < best.id)) {
        best = worker;
        bestScore = score;
      }
    }
    return best ?? (workers[0] as WorkerView);
  };

  const decide = (workers: readonly WorkerView[], request: RoutingRequest): Decision => {
    const at = now();
    sweep(at);
    const sessionId = request.sessionId?.();
    if (sessionId === undefined) return { worker: leastLoaded(workers, ''), reason: 'no_session' };
    const known = sessions.get(sessionId);
    if (known !== undefined) {
      sessions.delete(sessionId);
      const worker = workers.find((w) => w.id === known.workerId);
      if (worker !== undefined) {
        known.lastUsed = at;
        sessions.set(sessionId, known);
        return { worker, reason: 'session_hit' };
      }
      // Its worker left (or is unhealthy): the session starts over elsewhere.
      release(known);
    }
    const worker = leastLoaded(workers, sessionId);
    if (sessions.size >= maxSessions) {
      const oldest = sessions.entries().next().value;
      if (oldest !== undefined) {
        sessions.delete(oldest[0]);
        release(oldest[1]);
      }
    }
    sessions.set(sessionId, { workerId: worker.id, lastUsed: at });
    counts.set(worker.id, (counts.get(worker.id) ?? 0) + 1);
    return { worker, reason: 'new_session' };
  };

  return {
    name: 'sticky_least_loaded',
    decide,
    pick: (workers, request) => decide(workers, request).worker,
    finishSession(sessionId: string): boolean {
      const session = sessions.get(sessionId);
      if (session === undefined) return false;
      sessions.delete(sessionId);
      release(session);
      return true;
    },
    get sessions(): number {
      return sessions.size;
    },
  };
}
