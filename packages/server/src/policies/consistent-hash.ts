import type { DecidingPolicy, Decision } from './decision.js';
import { hash32 } from './hash.js';
import type { RoutingRequest, WorkerView } from './types.js';

/** vllm-router's (and SGLang's) virtual node count: enough for an even spread of a few workers. */
export const VIRTUAL_NODES_PER_WORKER = 160;
/** Rings kept for recent worker sets (health flapping alternates between a few of them). */
const MAX_CACHED_RINGS = 8;

interface Ring {
  /** Sorted virtual-node positions. */
  readonly points: Uint32Array;
  /** owners[i]: index, in the worker list the ring was built for, of the worker at points[i]. */
  readonly owners: Uint32Array;
}

export interface ConsistentHashOptions {
  readonly virtualNodes?: number;
  /** Hash of the routing key; injectable so the pair selector hashes a request's key once for both pools. */
  readonly keyHash?: (request: RoutingRequest) => number;
}

/**
 * consistent_hash: the request's key (RoutingRequest.hashKey(): session/user headers, body
 * `user`, else the prompt) is hashed onto a ring of virtual nodes built from the healthy workers;
 * the first node clockwise owns it. A worker that leaves (unhealthy) only moves its own keys, to
 * the next node on the ring, not to a fixed fallback. Rings are cached by worker ids, so one is
 * built per distinct healthy set, not per request.
 *
 * @example
 * const ch = createConsistentHashPolicy();
 * ch.pick(workers, request) === ch.pick(workers, request); // true for the same key
 */
export function createConsistentHashPolicy(options: ConsistentHashOptions = {}): DecidingPolicy {
  const virtualNodes = options.virtualNodes ?? VIRTUAL_NODES_PER_WORKER;
  const keyHash = options.keyHash ?? ((request: RoutingRequest) => hash32(request.hashKey()));
  const rings = new Map<string, Ring>();
  let lastWorkers: readonly WorkerView[] | undefined;
  let lastRing: Ring | undefined;

  const ringFor = (workers: readonly WorkerView[]): Ring => {
    if (workers === lastWorkers && lastRing !== undefined) return lastRing;
    const ids = workers.map((w) => w.id).join('\n');
    let ring = rings.get(ids);
    if (ring === undefined) {
      ring = buildRing(workers, virtualNodes);
      if (rings.size >= MAX_CACHED_RINGS) rings.delete(rings.keys().next().value as string);
      rings.set(ids, ring);
    }
    lastWorkers = workers;
    lastRing = ring;
    return ring;
  };

  const decide = (workers: readonly WorkerView[], request: RoutingRequest): Decision => {
    if (workers.length === 1) return { worker: workers[0] as WorkerView, reason: 'consistent_hash' };
    const ring = ringFor(workers);
    const at = lowerBound(ring.points, keyHash(request));
    const owner = ring.owners[at === ring.points.length ? 0 : at] as number;
    return { worker: workers[owner] as WorkerView, reason: 'consistent_hash' };
  };
  return { name: 'consistent_hash', decide, pick: (workers, request) => decide(workers, request).worker };
}

function buildRing(workers: readonly WorkerView[], virtualNodes: number): Ring {
  const count = workers.length * virtualNodes;
  const nodes: { point: number; owner: number; id: string }[] = new Array(count);
  let n = 0;
  workers.forEach((worker, owner) => {
    for (let v = 0; v < virtualNodes; v++) {
      nodes[n++] = { point: hash32(`${worker.id}#${v}`), owner, id: worker.id };
    }
  });
  // Ties broken by id, not list position, so a ring depends only on the set of workers.
  nodes.sort((a, b) => a.point - b.point || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const points = new Uint32Array(count);
  const owners = new Uint32Array(count);
  nodes.forEach((node, i) => {
    points[i] = node.point;
    owners[i] = node.owner;
  });
  return { points, owners };
}

/** First index whose point is >= value (points.length when none is). */
function lowerBound(points: Uint32Array, value: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((points[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
