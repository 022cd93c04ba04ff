import type { DecidingPolicy, Decision } from './decision.js';
import { hash32 } from './hash.js';
import type { RoutingRequest, WorkerView } from './types.js';

/** Worker hashes kept at most (one per worker id; a pool is far smaller). */
const MAX_CACHED_WORKER_HASHES = 4_096;

/** murmur3's fmix32: spreads the combined bits, so each (key, worker) pair scores independently. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The score of `worker` for a key hash: highest wins. The key is hashed once per request and each
 * worker's id once per process, so a request costs one string hash plus a few multiplications
 * per worker, not one hash of key + worker per worker (vllm-router's form: the same property, at
 * a price that grows with the prompt when the prompt is the key).
 */
export function rendezvousScore(keyHash: number, workerHash: number): number {
  return mix(keyHash ^ Math.imul(workerHash, 0x9e3779b1));
}

/**
 * rendezvous_hash (highest random weight): every healthy worker gets a score from the request's
 * key and its own id, and the highest score wins. The same key always goes to the same worker;
 * when a worker leaves, only its own keys move (each to its second-best worker), and keys spread
 * evenly without virtual nodes. The key is vllm-router's: the session headers (`x-session-id`,
 * `x-user-id`, `x-tenant-id`, `x-correlation-id`, `x-request-id`, `x-trace-id`), else the body's
 * `session_params.session_id`, `user`, `session_id` or `user_id`, else the prompt.
 *
 * @example
 * const rh = createRendezvousHashPolicy();
 * rh.pick(workers, request) === rh.pick(workers, request); // true for the same key
 */
export function createRendezvousHashPolicy(): DecidingPolicy {
  const workerHashes = new Map<string, number>();
  const workerHash = (worker: WorkerView): number => {
    let h = workerHashes.get(worker.id);
    if (h === undefined) {
      if (workerHashes.size >= MAX_CACHED_WORKER_HASHES) workerHashes.clear();
      h = hash32(worker.id);
      workerHashes.set(worker.id, h);
    }
    return h;
  };
  const decide = (workers: readonly WorkerView[], request: RoutingRequest): Decision => {
    let best = workers[0] as WorkerView;
    if (workers.length > 1) {
      const key = hash32(request.sessionId?.() ?? request.promptText());
      let bestScore = -1;
      for (const worker of workers) {
        const score = rendezvousScore(key, workerHash(worker));
        // Ties (1 in 2^32) go to the smaller id, so the choice depends only on the set of workers.
        if (score > bestScore || (score === bestScore && worker.id < best.id)) {
          best = worker;
          bestScore = score;
        }
      }
    }
    return { worker: best, reason: 'rendezvous_hash' };
  };
  return { name: 'rendezvous_hash', decide, pick: (workers, request) => decide(workers, request).worker };
}
