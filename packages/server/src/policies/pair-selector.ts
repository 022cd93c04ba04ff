import type { CacheAwareConfig, PolicyName } from '../config/types.js';
import { createCacheAwarePolicy } from './cache-aware.js';
import { createConsistentHashPolicy } from './consistent-hash.js';
import type { DecidingPolicy, Random } from './decision.js';
import { hash32 } from './hash.js';
import {
  CHARS_PER_TOKEN,
  createPdAwareDecodePolicy,
  createPdAwarePrefillPolicy,
  DECODE_FIRST,
} from './pd-aware.js';
import { createPowerOfTwoPolicy } from './power-of-two.js';
import { createRandomPolicy } from './random.js';
import { createRendezvousHashPolicy } from './rendezvous-hash.js';
import { createRoundRobinPolicy } from './round-robin.js';
import { createStickyLeastLoadedPolicy, type SessionPolicy } from './sticky-least-loaded.js';
import type { PairChoice, PairSelector, RoutingRequest, WorkerView } from './types.js';

export interface PairSelectorOptions {
  readonly prefillPolicy: PolicyName;
  readonly decodePolicy: PolicyName;
  readonly cacheAware: CacheAwareConfig;
  /**
   * pd_aware decode-first threshold in estimated tokens (characters / 4); 0 or absent = off. Set
   * only for connectors that can send a request to a decode alone.
   */
  readonly decodeFirstTokens?: number;
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
  // consistent_hash on both pools: one key hash per request, not one per pool.
  const hashOnce =
    options.prefillPolicy === 'consistent_hash' && options.decodePolicy === 'consistent_hash'
      ? new KeyHashMemo()
      : undefined;
  const decodeFirstChars = (options.decodeFirstTokens ?? 0) * CHARS_PER_TOKEN;
  const prefill = createPolicy(
    options.prefillPolicy,
    options.cacheAware,
    random,
    turn,
    hashOnce?.keyHash,
    'prefill',
  );
  const decode = createPolicy(
    options.decodePolicy,
    options.cacheAware,
    random,
    turn,
    hashOnce?.keyHash,
    'decode',
    decodeFirstChars,
  );
  // cache_aware on both pools reads the prompt twice: compute it once per request.
  const sharedPrompt = options.prefillPolicy === 'cache_aware' && options.decodePolicy === 'cache_aware';
  const sessionPolicies = [prefill, decode].filter(isSessionPolicy);
  return {
    finishSession(sessionId: string): boolean {
      let known = false;
      for (const policy of sessionPolicies) known = policy.finishSession(sessionId) || known;
      return known;
    },
    select(
      prefills: readonly WorkerView[],
      decodes: readonly WorkerView[],
      request: RoutingRequest,
      retry?: boolean,
    ): PairChoice | { readonly empty: 'prefill' | 'decode' } {
      if (prefills.length === 0) return { empty: 'prefill' };
      if (decodes.length === 0) return { empty: 'decode' };
      const routed = sharedPrompt ? memoized(request) : request;
      if (decodeFirstChars > 0 && options.decodePolicy === 'pd_aware') {
        // Decode first: the decode decides whether the request needs a prefill leg at all.
        const first = decode.decide(decodes, routed);
        if (retry !== true) count += 1;
        if (first.reason === DECODE_FIRST) {
          return {
            prefill: prefills[0] as WorkerView,
            decode: first.worker,
            decodeOnly: true,
            reasons: { prefill: 'skipped', decode: DECODE_FIRST },
          };
        }
        const p = prefill.decide(prefills, routed);
        return {
          prefill: p.worker,
          decode: first.worker,
          reasons: { prefill: p.reason, decode: first.reason },
        };
      }
      const p = prefill.decide(prefills, routed);
      const d = decode.decide(decodes, routed);
      hashOnce?.forget();
      if (retry !== true) count += 1;
      return { prefill: p.worker, decode: d.worker, reasons: { prefill: p.reason, decode: d.reason } };
    },
    release(worker: WorkerView, request: RoutingRequest): void {
      (worker.role === 'prefill' ? prefill : decode).release?.(worker, request);
    },
  };
}

/**
 * A policy instance for one pool. `keyHash` replaces consistent_hash's own hashing of the key (the
 * pair selector passes one that hashes once for both pools).
 */
export function createPolicy(
  name: PolicyName,
  cacheAware: CacheAwareConfig,
  random: Random,
  turn?: () => number,
  keyHash?: (request: RoutingRequest) => number,
  role: 'prefill' | 'decode' = 'prefill',
  decodeFirstChars = 0,
): DecidingPolicy {
  switch (name) {
    case 'round_robin':
      return createRoundRobinPolicy(turn);
    case 'random':
      return createRandomPolicy(random);
    case 'consistent_hash':
      return createConsistentHashPolicy(keyHash === undefined ? {} : { keyHash });
    case 'power_of_two':
      return createPowerOfTwoPolicy(random);
    case 'cache_aware':
      return createCacheAwarePolicy(cacheAware);
    case 'sticky_least_loaded':
      return createStickyLeastLoadedPolicy();
    case 'rendezvous_hash':
      return createRendezvousHashPolicy();
    case 'pd_aware':
      return role === 'prefill'
        ? createPdAwarePrefillPolicy(cacheAware.maxTreeSize)
        : createPdAwareDecodePolicy(cacheAware.maxTreeSize, decodeFirstChars);
  }
}

function isSessionPolicy(policy: DecidingPolicy): policy is SessionPolicy & DecidingPolicy {
  return typeof (policy as Partial<SessionPolicy>).finishSession === 'function';
}

/**
 * The hash of the request being routed, computed by the first pool that asks and reused by the
 * second; `forget()` after each selection so no request is held past its routing.
 */
class KeyHashMemo {
  #request: RoutingRequest | undefined;
  #hash = 0;

  readonly keyHash = (request: RoutingRequest): number => {
    if (request !== this.#request) {
      this.#hash = hash32(request.hashKey());
      this.#request = request;
    }
    return this.#hash;
  };

  forget(): void {
    this.#request = undefined;
  }
}

function memoized(request: RoutingRequest): RoutingRequest {
  let key: string | undefined;
  let prompt: string | undefined;
  return {
    sessionId: () => request.sessionId?.(),
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
