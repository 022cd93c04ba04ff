import type { DecidingPolicy, Decision } from './decision.js';
import { chunkKeys, PrefixIndex } from './prefix-index.js';
import type { RoutingRequest, WorkerView } from './types.js';

/**
 * A decoding sequence's fixed weight in the decode score, in prompt characters: one more sequence
 * in the batch costs a step about what 1k tokens of context do (weights are read once per step,
 * context per sequence; docs/routing.md).
 */
const SEQUENCE_WEIGHT_CHARS = 4096;

/**
 * Prompt characters at which a prefill's attention (quadratic in the prompt) costs as much as its
 * linear layers: about 41k tokens for an 8B model (docs/routing.md), at 4 characters a token.
 */
const ATTENTION_CROSSOVER_CHARS = 164_000;

/** Prefill work of `uncached` characters after `cached` ones, in linear-equivalent characters. */
export function prefillWork(uncached: number, cached: number): number {
  return uncached + (uncached * (cached + uncached / 2)) / ATTENTION_CROSSOVER_CHARS;
}

/** Characters per token when a threshold in tokens meets prompt characters (English text). */
export const CHARS_PER_TOKEN = 4;

/** The decode policy's reason when the request goes to the decode alone. */
export const DECODE_FIRST = 'decode_first';

/**
 * Stable small integers for workers (state lives in typed arrays indexed by them), remapped only
 * when the registry hands over a new array: the hot path does no per-worker map lookup.
 */
class Slots {
  readonly #byId = new Map<string, number>();
  #workers: readonly WorkerView[] | undefined;
  #of = new Int32Array(0);

  /** Slot of `workers[i]`, for the array passed to the last `map`. */
  of(i: number): number {
    return this.#of[i] as number;
  }

  get count(): number {
    return this.#byId.size;
  }

  map(workers: readonly WorkerView[]): void {
    if (workers === this.#workers) return;
    this.#workers = workers;
    this.#of = new Int32Array(workers.length);
    for (let i = 0; i < workers.length; i++) {
      const id = (workers[i] as WorkerView).id;
      let slot = this.#byId.get(id);
      if (slot === undefined) {
        slot = this.#byId.size;
        this.#byId.set(id, slot);
      }
      this.#of[i] = slot;
    }
  }
}

function grow(a: Float64Array, n: number): Float64Array {
  if (a.length >= n) return a;
  const b = new Float64Array(Math.max(n, a.length * 2));
  b.set(a);
  return b;
}

/** Per-request memo: the prompt's chunk keys, computed once for both pools. */
const keysMemo = new WeakMap<RoutingRequest, Uint32Array>();
function keysOf(request: RoutingRequest): Uint32Array {
  let keys = keysMemo.get(request);
  if (keys === undefined) {
    keys = chunkKeys(request.promptText());
    keysMemo.set(request, keys);
  }
  return keys;
}

interface Charge {
  readonly slot: number;
  readonly amount: number;
}

/** Per-worker amounts in flight (work, context): charged on a decision, credited on release. */
class Ledger {
  #amounts: Float64Array = new Float64Array(16);
  readonly #charges = new WeakMap<RoutingRequest, Charge>();

  /** The amounts, sized for `count` slots (the array may be replaced: read it after this). */
  sized(count: number): Float64Array {
    this.#amounts = grow(this.#amounts, count);
    return this.#amounts;
  }

  charge(request: RoutingRequest, slot: number, amount: number): void {
    this.#amounts[slot] = (this.#amounts[slot] as number) + amount;
    this.#charges.set(request, { slot, amount });
  }

  release(request: RoutingRequest): void {
    const charge = this.#charges.get(request);
    if (charge === undefined) return;
    this.#charges.delete(request);
    this.#amounts[charge.slot] = Math.max(0, (this.#amounts[charge.slot] as number) - charge.amount);
  }
}

/** What a pd_aware policy keeps between requests, its slot-indexed arrays sized for the call. */
interface PdAwareState {
  readonly index: PrefixIndex;
  readonly slots: Slots;
  readonly ledger: Ledger;
  /** Matched prompt characters per slot (`PrefixIndex.match`), zeroed again after each use. */
  matched: Float64Array;
  rotation: number;
}

/**
 * The shape both pd_aware policies share: slots mapped, ledger and match arrays sized, then
 * `choose` decides (charging the ledger); a response credits the ledger back.
 */
function createPdAwarePolicy(
  maxTreeSize: number,
  choose: (
    state: PdAwareState,
    amounts: Float64Array,
    workers: readonly WorkerView[],
    request: RoutingRequest,
  ) => Decision,
): DecidingPolicy {
  const state: PdAwareState = {
    index: new PrefixIndex(maxTreeSize),
    slots: new Slots(),
    ledger: new Ledger(),
    matched: new Float64Array(16),
    rotation: 0,
  };
  const decide = (workers: readonly WorkerView[], request: RoutingRequest): Decision => {
    state.slots.map(workers);
    const amounts = state.ledger.sized(state.slots.count);
    state.matched = grow(state.matched, state.slots.count);
    return choose(state, amounts, workers, request);
  };
  return {
    name: 'pd_aware',
    decide,
    pick: (workers, request) => decide(workers, request).worker,
    release: (_worker, request) => state.ledger.release(request),
  };
}

/**
 * pd_aware on the prefill pool: the prefill where the request is expected to finish its prefill
 * first. Its cost on worker w = the prefill work already sent to w and not answered yet + the work
 * of the part of this prompt w does not hold (past the prefix the router sent w before): linear in
 * its characters plus its attention to everything before it (`prefillWork`). Ties: fewer requests in flight, then
 * rotation. Reasons: `cache_hit` (some prefix held by the chosen worker) or `least_work`.
 */
export function createPdAwarePrefillPolicy(maxTreeSize: number): DecidingPolicy {
  return createPdAwarePolicy(maxTreeSize, (state, queued, workers, request) => {
    const { slots, matched } = state;
    const length = request.promptText().length;
    const keys = keysOf(request);
    const seen = state.index.match(keys, matched);
    const fullWork = prefillWork(length, 0);
    const n = workers.length;
    const start = state.rotation++ % n;
    let best = start;
    let bestSlot = slots.of(start);
    let bestCost =
      (queued[bestSlot] as number) +
      prefillWork(length - (matched[bestSlot] as number), matched[bestSlot] as number);
    for (let k = 1; k < n; k++) {
      const i = (start + k) % n;
      const slot = slots.of(i);
      const hit = matched[slot] as number;
      const cost = (queued[slot] as number) + (hit === 0 ? fullWork : prefillWork(length - hit, hit));
      if (
        cost < bestCost ||
        (cost === bestCost && (workers[i] as WorkerView).inFlight < (workers[best] as WorkerView).inFlight)
      ) {
        best = i;
        bestSlot = slot;
        bestCost = cost;
      }
    }
    const hit = matched[bestSlot] as number;
    for (const s of seen) matched[s] = 0;
    state.ledger.charge(request, bestSlot, prefillWork(length - hit, hit));
    state.index.insert(keys, bestSlot);
    return { worker: workers[best] as WorkerView, reason: hit > 0 ? 'cache_hit' : 'least_work' };
  });
}

/**
 * pd_aware on the decode pool: the decode with the least decoding load, scored as the prompt
 * characters of the sequences it holds (their context, read every step) plus a fixed weight per
 * sequence. Ties: rotation. With `decodeFirstChars` > 0 (decode-first), a request whose prompt
 * part the chosen decode does not hold (from what the router sent it before) is at most that many
 * characters gets reason `decode_first`: it goes to that decode alone. Else `least_load`.
 */
export function createPdAwareDecodePolicy(maxTreeSize: number, decodeFirstChars = 0): DecidingPolicy {
  return createPdAwarePolicy(maxTreeSize, (state, context, workers, request) => {
    const { slots, matched } = state;
    const n = workers.length;
    const start = state.rotation++ % n;
    let best = start;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const score =
        (context[slots.of(i)] as number) + SEQUENCE_WEIGHT_CHARS * (workers[i] as WorkerView).inFlight;
      if (score < bestScore) {
        best = i;
        bestScore = score;
      }
    }
    const slot = slots.of(best);
    const length = request.promptText().length;
    const keys = keysOf(request);
    let reason = 'least_load';
    if (decodeFirstChars > 0) {
      const seen = state.index.match(keys, matched);
      if (length - (matched[slot] as number) <= decodeFirstChars) reason = DECODE_FIRST;
      for (const s of seen) matched[s] = 0;
    }
    // The decode ends up holding the prompt's KV either way (received, or computed).
    state.index.insert(keys, slot);
    state.ledger.charge(request, slot, length);
    return { worker: workers[best] as WorkerView, reason };
  });
}
