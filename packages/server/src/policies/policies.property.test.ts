import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PolicyName } from '../config/types.js';
import { createPairSelector, createPolicy } from './pair-selector.js';
import { seededRandom } from './test-helpers.js';
import type { RoutingRequest, WorkerView } from './types.js';

const POLICIES: readonly PolicyName[] = [
  'round_robin',
  'random',
  'consistent_hash',
  'power_of_two',
  'cache_aware',
];
const cacheAware = { cacheThreshold: 0.3, balanceAbsThreshold: 2, balanceRelThreshold: 1.5, maxTreeSize: 64 };

const pool = (role: 'prefill' | 'decode') =>
  fc
    .uniqueArray(fc.record({ n: fc.nat(50), inFlight: fc.nat(20) }), {
      minLength: 1,
      maxLength: 8,
      selector: (w) => w.n,
    })
    .map((items): WorkerView[] =>
      items.map(({ n, inFlight }) => ({ id: `${role}:${n}`, role, url: `http://h:${n}`, inFlight })),
    );
const requests = fc.array(
  fc
    .record({ key: fc.string(), prompt: fc.string({ maxLength: 40 }) })
    .map(({ key, prompt }): RoutingRequest => ({ hashKey: () => key, promptText: () => prompt })),
  { minLength: 1, maxLength: 30 },
);

describe('every policy', () => {
  for (const name of POLICIES) {
    it(`${name} returns one of the workers it was given`, () => {
      fc.assert(
        fc.property(pool('decode'), requests, fc.integer(), (workers, reqs, seed) => {
          const policy = createPolicy(name, cacheAware, seededRandom(seed));
          for (const request of reqs) expect(workers).toContain(policy.pick(workers, request));
        }),
      );
    });
  }

  it('the pair selector returns a prefill from the prefills and a decode from the decodes', () => {
    const names = fc.constantFrom(...POLICIES);
    fc.assert(
      fc.property(
        names,
        names,
        pool('prefill'),
        pool('decode'),
        requests,
        fc.integer(),
        (p, d, prefills, decodes, reqs, seed) => {
          const selector = createPairSelector({
            prefillPolicy: p,
            decodePolicy: d,
            cacheAware,
            random: seededRandom(seed),
          });
          for (const request of reqs) {
            const choice = selector.select(prefills, decodes, request);
            if ('empty' in choice) throw new Error('pools are not empty');
            expect(prefills).toContain(choice.prefill);
            expect(decodes).toContain(choice.decode);
          }
        },
      ),
    );
  });
});
