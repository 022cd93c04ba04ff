import type { FaultSpec } from './fault-spec.js';
import { JSON_CONTENT_TYPE } from './http-io.js';

/** The faults that apply to one request, resolved once when it arrives. */
export interface RequestFaults {
  readonly status?: { readonly status: number; readonly message?: string };
  readonly hang?: true;
  readonly slowHeadersMs?: number;
  readonly resetAfterEvents?: number;
  readonly malformedAt?: number;
  readonly stall?: { readonly ms: number; readonly after: number };
  readonly kvNeverArrives?: true;
  readonly nixlNoParams?: true;
  readonly nixlBadParams?: true;
  /** A raw answer given instead of generating ('' contentType: no Content-Type header). */
  readonly body?: RawAnswer;
}

/** The exact answer of a `body` fault. */
export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

interface Entry {
  readonly spec: FaultSpec;
  remaining: number; // Infinity when `times` is absent
}

const NO_FAULTS: RequestFaults = Object.freeze({});

/**
 * The live fault list of one mock instance. Counted faults (`times`) are consumed as matching
 * requests arrive and disappear when they reach zero.
 */
export class FaultBook {
  #entries: Entry[] = [];

  /** Replaces the whole list (an empty list clears every fault). */
  set(faults: readonly FaultSpec[]): void {
    this.#entries = faults.map((spec) => ({ spec, remaining: spec.times ?? Number.POSITIVE_INFINITY }));
  }

  /** The faults still active, with `times` showing what is left. */
  list(): FaultSpec[] {
    return this.#entries.map(({ spec, remaining }) =>
      Number.isFinite(remaining) ? { ...spec, times: remaining } : spec,
    );
  }

  get isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /** The listener-closing refusal, if one is active (handled by the server, not per request). */
  listenerRefusal(): (FaultSpec & { kind: 'refuse' }) | undefined {
    for (const { spec } of this.#entries) {
      if (spec.kind === 'refuse' && spec.mode !== 'destroy') return spec;
    }
    return undefined;
  }

  /** True when this new connection must be destroyed (a `refuse` fault in `destroy` mode). */
  takeConnectionReset(): boolean {
    return this.#take((spec) => spec.kind === 'refuse' && spec.mode === 'destroy') !== undefined;
  }

  /** True when this side-channel read must be refused (a `nixl-refuse-reads` fault; `times` counts reads). */
  takeReadRefusal(): boolean {
    return this.#take((spec) => spec.kind === 'nixl-refuse-reads') !== undefined;
  }

  /**
   * What the bootstrap server does with this request (a `mooncake-bootstrap-down` fault; `times`
   * counts requests): `reset` its connection, answer `empty`, or serve it (undefined).
   */
  takeBootstrapDown(): 'reset' | 'empty' | undefined {
    const spec = this.#take((s) => s.kind === 'mooncake-bootstrap-down');
    return spec?.kind === 'mooncake-bootstrap-down' ? (spec.mode ?? 'reset') : undefined;
  }

  /** Removes a fault object (a timed `refuse` that has expired). */
  remove(spec: FaultSpec): void {
    this.#entries = this.#entries.filter((e) => e.spec !== spec);
  }

  /**
   * Resolves and consumes the faults for a request. `completion` says whether it is a completion
   * route; scope-`all` faults also hit the other vLLM routes (health, models, metrics...).
   */
  takeForRequest(completion: boolean): RequestFaults {
    if (this.#entries.length === 0) return NO_FAULTS;
    const out: {
      -readonly [K in keyof RequestFaults]: RequestFaults[K];
    } = {};
    for (const entry of [...this.#entries]) {
      const { spec } = entry;
      const inScope = 'scope' in spec && spec.scope === 'all' ? true : completion;
      // Connection and side-channel faults are consumed by connections and reads, not requests.
      if (
        !inScope ||
        spec.kind === 'refuse' ||
        spec.kind === 'nixl-refuse-reads' ||
        spec.kind === 'mooncake-bootstrap-down'
      )
        continue;
      switch (spec.kind) {
        case 'status':
          if (out.status !== undefined) continue;
          out.status =
            spec.message === undefined
              ? { status: spec.status }
              : { status: spec.status, message: spec.message };
          break;
        case 'hang':
          out.hang = true;
          break;
        case 'slow-headers':
          out.slowHeadersMs = spec.delayMs;
          break;
        case 'reset-after':
          out.resetAfterEvents = spec.events;
          break;
        case 'malformed-sse':
          out.malformedAt = spec.at ?? 1;
          break;
        case 'stall':
          out.stall = { ms: spec.ms, after: spec.after ?? 1 };
          break;
        case 'kv-never-arrives':
          out.kvNeverArrives = true;
          break;
        case 'nixl-no-params':
          out.nixlNoParams = true;
          break;
        case 'nixl-bad-params':
          out.nixlBadParams = true;
          break;
        case 'body':
          // Like `status`: the first one answers; later ones wait their turn, unconsumed.
          if (out.body !== undefined) continue;
          out.body = {
            status: spec.status ?? 200,
            contentType: spec.contentType ?? JSON_CONTENT_TYPE,
            body: spec.body,
          };
          break;
      }
      this.#consume(entry);
    }
    return out;
  }

  #take(match: (spec: FaultSpec) => boolean): FaultSpec | undefined {
    const entry = this.#entries.find((e) => match(e.spec));
    if (entry === undefined) return undefined;
    this.#consume(entry);
    return entry.spec;
  }

  #consume(entry: Entry): void {
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.#entries = this.#entries.filter((e) => e !== entry);
  }
}
