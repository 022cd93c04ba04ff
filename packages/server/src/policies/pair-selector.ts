import type { CacheAwareConfig, PolicyName } from '../config/types.js';
import { createCacheAwarePolicy } from './cache-aware.js';
import { createConsistentHashPolicy } from './consistent-hash.js';
import type { DecidingPolicy, Random } from './decision.js';
import { createPowerOfTwoPolicy } from './power-of-two.js';
import { createRandomPolicy } from './random.js';
import { createRoundRobinPolicy } from './round-robin.js';
import type { PairChoice, PairSelector, RoutingRequest, WorkerView } from './types.js';

export interface PairSelectorOptions {
  readonly prefillPolicy: PolicyName;
  readonly decodePolicy: PolicyName;
  readonly cacheAware: CacheAwareConfig;
  /** Uniform in [0, 1); injected so tests are deterministic. Defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * Chooses the prefill and decode worker of each request. Holds the one round-robin counter of the
 * reference proxy: it starts at 0 and goes up by one per chosen pair (only once both pools have a
 * worker, before any upstream call), and every round_robin pool reads it, so with both pools
 * round_robin request k gets (P[k mod nP], D[k mod nD]). Stateful policies (cache_aware trees,
 * hash rings) live here too, one per pool, so create one selector per router.
 *
 * @example
 * const selector = createPairSelector({ prefillPolicy: 'round_robin', decodePolicy: 'round_robin', cacheAware });
 * const choice = selector.select(healthyPrefills, healthyDecodes, request);
 * if ('empty' in choice) reply503(`no healthy ${choice.empty} worker`);
 */
export function createPairSelector(options: PairSelectorOptions): PairSelector {
  const random = options.random ?? Math.random;
  let count = 0;
  const turn = () => count;
  const prefill = createPolicy(options.prefillPolicy, options.cacheAware, random, turn);
  const decode = createPolicy(options.decodePolicy, options.cacheAware, random, turn);
  // Both pools read the same key or prompt: compute it once per request, not once per pool.
  const shared = options.prefillPolicy === options.decodePolicy && options.prefillPolicy !== 'round_robin';
  return {
    select(
      prefills: readonly WorkerView[],
      decodes: readonly WorkerView[],
      request: RoutingRequest,
    ): PairChoice | { readonly empty: 'prefill' | 'decode' } {
      if (prefills.length === 0) return { empty: 'prefill' };
      if (decodes.length === 0) return { empty: 'decode' };
      const routed = shared ? memoized(request) : request;
      const p = prefill.decide(prefills, routed);
      const d = decode.decide(decodes, routed);
      count += 1;
      return { prefill: p.worker, decode: d.worker, reasons: { prefill: p.reason, decode: d.reason } };
    },
  };
}

/** A policy instance for one pool. */
export function createPolicy(
  name: PolicyName,
  cacheAware: CacheAwareConfig,
  random: Random,
  turn?: () => number,
): DecidingPolicy {
  switch (name) {
    case 'round_robin':
      return createRoundRobinPolicy(turn);
    case 'random':
      return createRandomPolicy(random);
    case 'consistent_hash':
      return createConsistentHashPolicy();
    case 'power_of_two':
      return createPowerOfTwoPolicy(random);
    case 'cache_aware':
      return createCacheAwarePolicy(cacheAware);
  }
}

function memoized(request: RoutingRequest): RoutingRequest {
  let key: string | undefined;
  let prompt: string | undefined;
  return {
    hashKey: () => {
      key ??= request.hashKey();
      return key;
    },
    promptText: () => {
      prompt ??= request.promptText();
      return prompt;
    },
  };
}
