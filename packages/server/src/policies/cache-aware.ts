import type { CacheAwareConfig } from '../config/types.js';
import type { DecidingPolicy, Decision } from './decision.js';
import { PrefixTree } from './prefix-tree.js';
import type { RoutingRequest, WorkerView } from './types.js';

/** Trees of workers no longer listed are dropped once this many times the listed count exist. */
const STALE_TREE_FACTOR = 4;

/**
 * cache_aware, as vllm-router/SGLang document it:
 * 1. If load is imbalanced — max - min in-flight > balanceAbsThreshold AND
 *    max > min * balanceRelThreshold — the least-loaded worker wins (`load_balance`).
 * 2. Otherwise the worker whose approximate prefix tree matches the longest prefix of the prompt:
 *    if matched/length > cacheThreshold it wins (`cache_hit`); else the worker with the smallest
 *    tree, i.e. the most cache room (`cache_miss`). Ties go to fewer in-flight requests, then
 *    rotate, so identical idle workers still share the work.
 * The prompt is then inserted into the chosen worker's tree (in every case, so the tree learns
 * where prefixes went even while balancing). Each tree holds at most maxTreeSize characters.
 *
 * @example
 * const ca = createCacheAwarePolicy({ cacheThreshold: 0.3, balanceAbsThreshold: 64, balanceRelThreshold: 1.5, maxTreeSize: 1 << 24 });
 * ca.pick(workers, request); // a later request with the same prefix goes to the same worker
 */
export function createCacheAwarePolicy(config: CacheAwareConfig): DecidingPolicy {
  const trees = new Map<string, PrefixTree>();
  let rotation = 0;

  const treeOf = (worker: WorkerView): PrefixTree => {
    let tree = trees.get(worker.id);
    if (tree === undefined) {
      tree = new PrefixTree(config.maxTreeSize);
      trees.set(worker.id, tree);
    }
    return tree;
  };

  const dropStaleTrees = (workers: readonly WorkerView[]): void => {
    if (trees.size <= STALE_TREE_FACTOR * workers.length) return;
    const listed = new Set(workers.map((w) => w.id));
    for (const id of trees.keys()) if (!listed.has(id)) trees.delete(id);
  };

  const decide = (workers: readonly WorkerView[], request: RoutingRequest): Decision => {
    dropStaleTrees(workers);
    const text = request.promptText();
    const start = rotation++ % workers.length;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const worker of workers) {
      if (worker.inFlight < min) min = worker.inFlight;
      if (worker.inFlight > max) max = worker.inFlight;
    }
    const imbalanced = max - min > config.balanceAbsThreshold && max > min * config.balanceRelThreshold;

    let chosen: WorkerView;
    let reason: string;
    if (imbalanced) {
      chosen = best(workers, start, (a, b) => a.inFlight < b.inFlight);
      reason = 'load_balance';
    } else {
      let bestWorker = workers[0] as WorkerView;
      let bestMatch = -1;
      for (let k = 0; k < workers.length; k++) {
        const worker = workers[(start + k) % workers.length] as WorkerView;
        const match = treeOf(worker).matchLength(text);
        if (match > bestMatch || (match === bestMatch && worker.inFlight < bestWorker.inFlight)) {
          bestWorker = worker;
          bestMatch = match;
        }
      }
      const ratio = text.length === 0 ? 0 : bestMatch / text.length;
      if (ratio > config.cacheThreshold) {
        chosen = bestWorker;
        reason = 'cache_hit';
      } else {
        // Smallest tree first; equal trees (say, all empty at startup) by fewer in-flight.
        chosen = best(workers, start, (a, b) => {
          const sizeA = treeOf(a).size;
          const sizeB = treeOf(b).size;
          return sizeA < sizeB || (sizeA === sizeB && a.inFlight < b.inFlight);
        });
        reason = 'cache_miss';
      }
    }
    if (text.length > 0) treeOf(chosen).insert(text);
    return { worker: chosen, reason };
  };
  return { name: 'cache_aware', decide, pick: (workers, request) => decide(workers, request).worker };
}

/** The first worker no other is `better` than, scanning from `start` so ties rotate between calls. */
function best(
  workers: readonly WorkerView[],
  start: number,
  better: (a: WorkerView, b: WorkerView) => boolean,
): WorkerView {
  let chosen = workers[start] as WorkerView;
  for (let k = 1; k < workers.length; k++) {
    const worker = workers[(start + k) % workers.length] as WorkerView;
    if (better(worker, chosen)) chosen = worker;
  }
  return chosen;
}
