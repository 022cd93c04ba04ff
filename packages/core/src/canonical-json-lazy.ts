import type { JsonSource } from './canonical-json-decode.js';
import { type ObjectMembers, ParseFailure, SourceParser } from './canonical-json-parse.js';
import type { PyValue } from './canonical-json-types.js';
import { latin1 } from './canonical-json-utf8.js';

/** Already validated: only the writer's limits applied. */
const NO_LIMITS = { maxDepth: Number.POSITIVE_INFINITY, maxElements: Number.POSITIVE_INFINITY };
/** Objects with more members than this find a key through a Map instead of a scan. */
const LINEAR_KEYS = 16;

/**
 * The top-level object of a written request, as a `PyObject` whose values are parsed from their
 * span of the input only when read. Routing reads one or two members of most requests and none
 * of many, so a body of a million numbers costs nothing here until a policy asks for them.
 * Anything but `get`/`has`/`size` (iteration, edits) parses every member once and behaves as a
 * plain Map from then on.
 */
export class LazyPyObject extends Map<string, PyValue> {
  #keys: string[] | undefined;
  /** Input span of each member's value: start, end. */
  readonly #spans: number[];
  #memo: Array<PyValue | undefined> | undefined;
  #index: Map<string, number> | undefined;
  readonly #input: Uint8Array;
  /** Set for decoded-text sources (UTF-16/32), whose scan indexes are not byte offsets. */
  readonly #text: JsonSource | undefined;
  readonly #strict: boolean;

  /** `members`: the writer's top-level members (copied); `source`: what was scanned. */
  constructor(members: ObjectMembers | undefined, input: Uint8Array, source: JsonSource) {
    super();
    const count = members?.count ?? 0;
    this.#keys = members === undefined ? [] : members.keys.slice(0, count);
    this.#spans = new Array<number>(2 * count);
    for (let m = 0; m < count; m++) {
      this.#spans[2 * m] = members?.spans[5 * m + 3] as number;
      this.#spans[2 * m + 1] = members?.spans[5 * m + 4] as number;
    }
    this.#input = input;
    this.#text = source.kind === 'text' ? source : undefined;
    this.#strict = source.kind === 'utf8' && source.strict;
  }

  override get(key: string): PyValue | undefined {
    if (this.#keys === undefined) return super.get(key);
    const m = this.#find(this.#keys, key);
    return m === -1 ? undefined : this.#value(m);
  }

  override has(key: string): boolean {
    return this.#keys === undefined ? super.has(key) : this.#find(this.#keys, key) !== -1;
  }

  override get size(): number {
    return this.#keys === undefined ? super.size : this.#keys.length;
  }

  override set(key: string, value: PyValue): this {
    this.#all();
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.#all();
    return super.delete(key);
  }

  override clear(): void {
    this.#all();
    super.clear();
  }

  override forEach(
    callback: (value: PyValue, key: string, map: Map<string, PyValue>) => void,
    thisArg?: unknown,
  ): void {
    this.#all();
    super.forEach(callback, thisArg);
  }

  override keys(): MapIterator<string> {
    this.#all();
    return super.keys();
  }

  override values(): MapIterator<PyValue> {
    this.#all();
    return super.values();
  }

  override entries(): MapIterator<[string, PyValue]> {
    this.#all();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, PyValue]> {
    this.#all();
    return super[Symbol.iterator]();
  }

  /** Parses every member into the Map itself, once. */
  #all(): void {
    const keys = this.#keys;
    if (keys === undefined) return;
    this.#keys = undefined;
    for (let m = 0; m < keys.length; m++) super.set(keys[m] as string, this.#value(m));
  }

  #find(keys: string[], key: string): number {
    if (keys.length <= LINEAR_KEYS) return keys.indexOf(key);
    if (this.#index === undefined) {
      this.#index = new Map();
      for (let m = 0; m < keys.length; m++) this.#index.set(keys[m] as string, m);
    }
    return this.#index.get(key) ?? -1;
  }

  #value(m: number): PyValue {
    this.#memo ??= new Array<PyValue | undefined>(this.#spans.length >> 1);
    const memo = this.#memo[m];
    if (memo !== undefined) return memo;
    const from = this.#spans[2 * m] as number;
    const to = this.#spans[2 * m + 1] as number;
    let value: PyValue | ParseFailure;
    if (this.#text !== undefined) {
      value = new SourceParser(this.#text, this.#input, NO_LIMITS, undefined, from, to).run() as PyValue;
    } else {
      // Only the member's bytes are turned into a scan string, not the whole body.
      const bytes = this.#input.subarray(from, to);
      const source: JsonSource = { kind: 'utf8', scan: latin1(bytes), start: 0, strict: this.#strict };
      value = new SourceParser(source, bytes, NO_LIMITS).run() as PyValue;
    }
    // The writer accepted the whole document, so each member's span parses.
    if (value instanceof ParseFailure) throw new Error(`unreachable: ${value.message}`);
    this.#memo[m] = value;
    return value;
  }
}
