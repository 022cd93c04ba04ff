import type { JsonSource } from './canonical-json-decode.js';
import { plainDecimalRepr, pyFloatRepr } from './canonical-json-float.js';
import type { AsciiOut } from './canonical-json-out.js';
import { PY_INT_MAX_STR_DIGITS, PyNumber, type PyObject, type PyValue } from './canonical-json-types.js';
import { decodeUtf8Replace, decodeUtf8Strict } from './canonical-json-utf8.js';

export type ParseFailureCode =
  | 'PD_ERR_JSON_SYNTAX'
  | 'PD_ERR_JSON_TOO_DEEP'
  | 'PD_ERR_JSON_ENCODING'
  | 'PD_ERR_JSON_TOO_MANY_ELEMENTS';

/** Why and where (index into `source.scan`: the byte offset for UTF-8 bodies) parsing failed. */
export class ParseFailure {
  readonly code: ParseFailureCode;
  readonly message: string;
  readonly index: number;

  constructor(code: ParseFailureCode, message: string, index: number) {
    this.code = code;
    this.message = message;
    this.index = index;
  }
}

/** The limits a parse enforces. */
export interface ParseLimits {
  readonly maxDepth: number;
  /** JSON values (scalars and containers, the root included) accepted before a failure. */
  readonly maxElements: number;
}

/** Returned by `run` when it stopped at its pause index with more to do. */
export const PAUSED: unique symbol = Symbol('paused');
/** Returned by `run` in writer mode when the whole document was written. */
export const WRITTEN: unique symbol = Symbol('written');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** What `\x` means, keyed by the char code of `x` (`\u` is handled apart). */
const SIMPLE_ESCAPES: Record<number, string> = {
  34: '"',
  92: '\\',
  47: '/',
  98: '\b',
  102: '\f',
  110: '\n',
  114: '\r',
  116: '\t',
};

/** String content copied as it is: anything but `"`, `\\` and controls (strict mode)... */
// biome-ignore lint/suspicious/noControlCharactersInRegex: raw controls end a run (Python's strict mode).
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
/**
 * ...and the ASCII part of that that json.dumps copies verbatim (so not DEL, 0x7F), which needs no
 * decoding when the text is bytes.
 */
const PLAIN_ASCII_RUN = /[\u0020\u0021\u0023-\u005b\u005d-\u007e]*/y;
const SHORT_PROBE = 16;
/** From 0x7F up, a unit is escaped on output (and, in a UTF-8 body, may need decoding). */
const FIRST_ESCAPED_HIGH = 0x7f;

/** Index of the first character at or after `i` that ends a run matched by `run`. */
function skipRun(run: RegExp, s: string, i: number): number {
  run.lastIndex = i;
  run.test(s);
  return run.lastIndex;
}

function isDigit(c: number): boolean {
  return c >= DIGIT_0 && c <= DIGIT_9;
}

/** Python's json whitespace is exactly space, \t, \n, \r (not \f, \v or Unicode spaces). */
export function skipWhitespace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

function hexValue(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Numbers kept per member of an open object in writer mode. */
const SPAN = 5;
/** Objects with more keys than this find duplicates through a Map instead of a scan. */
const LINEAR_KEYS = 8;
/** A pooled ObjectMembers keeps tables for this many members at most. */
const POOLED_MEMBERS = 1024;

/**
 * ObjectMembers of synchronous runs, one per depth, reused: most requests are small, and a typed
 * array per object would cost more than the parse. A synchronous run never interleaves with
 * another, so one pool is enough.
 */
const pool: ObjectMembers[] = [];
let poolInUse = false;

/**
 * The members of one open object in writer mode, with where each was written, so that a duplicate
 * key can be resolved as a dict does once the object closes. One per depth, reused.
 */
export class ObjectMembers {
  /** Output index of the `{`. */
  start = 0;
  count = 0;
  keys: string[] = [];
  /** Per member: output key start, value start, value end; input value start, value end. */
  spans = new Int32Array(SPAN * 4);
  #index: Map<string, number> | undefined;
  /** Set on the first duplicate: the member whose value each member takes, -1 for a repeat. */
  #latest: number[] | undefined;

  reset(start: number): void {
    this.start = start;
    this.count = 0;
    this.keys.length = 0;
    this.#index?.clear();
    this.#latest = undefined;
  }

  /** Drops what a large object left behind, so a pooled instance does not keep it alive. */
  trim(): void {
    this.count = 0;
    this.keys.length = 0;
    if (this.spans.length > SPAN * POOLED_MEMBERS) this.spans = new Int32Array(SPAN * 4);
    if (this.#index !== undefined && this.#index.size > POOLED_MEMBERS) this.#index = undefined;
    else this.#index?.clear();
  }

  /** Adds a member whose key was just written at `keyStart` and whose value starts at `valueStart`. */
  add(key: string, keyStart: number, valueStart: number, inputStart: number): void {
    const m = this.count++;
    if (SPAN * this.count > this.spans.length) {
      const grown = new Int32Array(this.spans.length * 2);
      grown.set(this.spans);
      this.spans = grown;
    }
    const first = this.#find(key);
    this.keys.push(key);
    if (this.#index !== undefined) {
      if (first === -1) this.#index.set(key, m);
    } else if (this.count > LINEAR_KEYS) {
      this.#index = new Map();
      for (let k = 0; k < this.count; k++) {
        const name = this.keys[k] as string;
        if (!this.#index.has(name)) this.#index.set(name, k);
      }
    }
    if (first !== -1 && this.#latest === undefined) this.#latest = Array.from({ length: m }, (_, k) => k);
    if (this.#latest !== undefined) {
      this.#latest.push(first === -1 ? m : -1);
      if (first !== -1) this.#latest[first] = m;
    }
    const o = SPAN * m;
    this.spans[o] = keyStart;
    this.spans[o + 1] = valueStart;
    this.spans[o + 3] = inputStart;
  }

  /** The value of the last member added ended at output `end`, input `inputEnd`. */
  end(end: number, inputEnd: number): void {
    const o = SPAN * (this.count - 1);
    this.spans[o + 2] = end;
    this.spans[o + 4] = inputEnd;
  }

  #find(key: string): number {
    if (this.#index !== undefined) return this.#index.get(key) ?? -1;
    for (let k = 0; k < this.count - 1; k++) if (this.keys[k] === key) return k;
    return -1;
  }

  /**
   * Rewrites the object's output when a key was repeated: each key once, at its first position,
   * with its last value (Python's dict). Members are renumbered to the ones kept.
   */
  resolveDuplicates(out: AsciiOut): void {
    const latest = this.#latest;
    if (latest === undefined) return;
    const base = this.start + 1;
    const old = Buffer.from(out.buf.subarray(base, out.len));
    const spans = this.spans;
    const keys = this.keys;
    out.len = base;
    let kept = 0;
    for (let m = 0; m < this.count; m++) {
      const last = latest[m] as number;
      if (last === -1) continue;
      if (kept > 0) out.separator();
      const o = SPAN * m;
      const l = SPAN * last;
      const keyStart = out.len;
      out.copy(old, (spans[o] as number) - base, (spans[o + 1] as number) - base);
      const valueStart = out.len;
      out.copy(old, (spans[l + 1] as number) - base, (spans[l + 2] as number) - base);
      const n = SPAN * kept;
      const inputStart = spans[l + 3] as number;
      const inputEnd = spans[l + 4] as number;
      spans[n] = keyStart;
      spans[n + 1] = valueStart;
      spans[n + 2] = out.len;
      spans[n + 3] = inputStart;
      spans[n + 4] = inputEnd;
      keys[kept++] = keys[m] as string;
    }
    keys.length = kept;
    this.count = kept;
    this.#latest = undefined;
  }
}

/**
 * Python's `json.loads` grammar (the C scanner, strict=True). Scans either a UTF-8 body as latin1
 * (decoding string contents on the way) or decoded text. Iterative with an explicit container
 * stack, so depth never touches the call stack. Two modes share the grammar, so they accept and
 * refuse exactly the same input with the same errors:
 * - tree mode (no `out`) builds a `PyValue` tree;
 * - writer mode writes `json.dumps` of the document straight to `out`, materialising no value:
 *   its memory is the output plus the keys of the objects open at once, whatever the shape, and
 *   it can stop at a given scan index and be resumed (`run`), so a large body need not block.
 */
export class SourceParser {
  readonly #s: string;
  readonly #end: number;
  readonly #maxDepth: number;
  readonly #maxElements: number;
  /** Set when `#s` holds bytes as latin1: contents with bytes >= 0x80 are decoded from here. */
  readonly #bytes: Uint8Array | undefined;
  readonly #strict: boolean;
  readonly #out: AsciiOut | undefined;
  #i = 0;
  /** Result of the last successful `#scanString`. */
  #str = '';
  /** Whether that string is ASCII that json.dumps copies verbatim (no escape in or out). */
  #plain = false;
  #failure: ParseFailure | undefined;
  #values = 0;
  // Writer-mode state kept between runs.
  #depth = 0;
  readonly #isObject: boolean[] = [];
  readonly #objects: ObjectMembers[];
  readonly #pooled: boolean;
  /** The root object's members (writer mode), once it is open. */
  #top: ObjectMembers | undefined;

  /** Parses `source.scan` from `from` (default `source.start`) to `to` (default its end). */
  constructor(
    source: JsonSource,
    bytes: Uint8Array,
    limits: ParseLimits,
    out?: AsciiOut,
    from = source.start,
    to = source.scan.length,
  ) {
    this.#s = source.scan;
    this.#i = skipWhitespace(source.scan, from);
    this.#end = to;
    this.#maxDepth = limits.maxDepth;
    this.#maxElements = limits.maxElements;
    this.#bytes = source.kind === 'utf8' ? bytes : undefined;
    this.#strict = source.kind === 'utf8' && source.strict;
    this.#out = out;
    this.#pooled = out?.shared === true && !poolInUse;
    if (this.#pooled) poolInUse = true;
    this.#objects = this.#pooled ? pool : [];
  }

  /** Gives pooled tables back; `topMembers` must not be used after. */
  release(): void {
    if (!this.#pooled) return;
    for (const members of pool) members?.trim();
    poolInUse = false;
  }

  /** Where the scan is: `run` stops once this passes its pause index. */
  get index(): number {
    return this.#i;
  }

  /**
   * In writer mode, the members of the top-level object, once `run` returned WRITTEN for an object
   * document (their output spans in `out`, their value spans in the input).
   */
  get topMembers(): ObjectMembers | undefined {
    return this.#top;
  }

  /**
   * Parses on. Tree mode runs to the end and returns the value. Writer mode returns WRITTEN when
   * done, or PAUSED when the next value starts at or after `pauseAt` (call again to go on).
   */
  run(pauseAt = Number.POSITIVE_INFINITY): PyValue | ParseFailure | typeof PAUSED | typeof WRITTEN {
    const s = this.#s;
    const out = this.#out;
    const containers: Array<PyValue[] | PyObject> = [];
    const keys: string[] = [];
    const isObject = this.#isObject;
    let depth = this.#depth;
    let i = this.#i;
    let value: PyValue = null;
    parseValue: for (;;) {
      if (i >= pauseAt && out !== undefined) {
        this.#i = i;
        this.#depth = depth;
        return PAUSED;
      }
      if (++this.#values > this.#maxElements) {
        return new ParseFailure(
          'PD_ERR_JSON_TOO_MANY_ELEMENTS',
          `More than ${this.#maxElements} JSON values`,
          i,
        );
      }
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        if (!this.#scanString(i + 1)) return this.#fail();
        if (out === undefined) value = this.#str;
        else this.#writeString(out, i);
        i = this.#i;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth >= this.#maxDepth) {
          return new ParseFailure('PD_ERR_JSON_TOO_DEEP', `Nesting deeper than ${this.#maxDepth} levels`, i);
        }
        const object = c === OPEN_BRACE;
        const close = object ? CLOSE_BRACE : CLOSE_BRACKET;
        i = skipWhitespace(s, i + 1);
        const next = s.charCodeAt(i);
        if (next === close) {
          if (out === undefined) value = object ? new Map() : [];
          else {
            out.byte(c);
            out.byte(close);
          }
          i++;
        } else if (object) {
          if (!this.#scanKey(i)) return this.#fail();
          if (out === undefined) {
            containers.push(new Map());
            keys.push(this.#str);
          } else {
            isObject[depth] = true;
            let members = this.#objects[depth];
            if (members === undefined) {
              members = new ObjectMembers();
              this.#objects[depth] = members;
            }
            members.reset(out.len);
            if (depth === 0) this.#top = members;
            out.byte(OPEN_BRACE);
            this.#writeKey(out, members, i);
          }
          i = this.#i;
          depth++;
          continue;
        } else {
          if (out === undefined) {
            containers.push([]);
            keys.push('');
          } else {
            isObject[depth] = false;
            out.byte(OPEN_BRACKET);
          }
          depth++;
          continue;
        }
      } else if ((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS) {
        const text = this.#scanNumber(i);
        if (text === undefined) return this.#fail();
        if (out === undefined) value = new PyNumber(text ?? s.slice(i, this.#i));
        else if (text !== null) out.ascii(text);
        else if (this.#bytes !== undefined) out.copy(this.#bytes, i, this.#i);
        else out.ascii(s, i, this.#i);
        i = this.#i;
      } else {
        const literal = this.#literal(c, i);
        if (literal === undefined) return new ParseFailure('PD_ERR_JSON_SYNTAX', 'Expecting value', i);
        if (out === undefined) value = literal.value;
        else out.ascii(literal.text);
        i += literal.text.length;
      }

      // A value is complete: hand it to its container, closing containers as they end.
      for (;;) {
        if (depth === 0) {
          i = skipWhitespace(s, i);
          if (i !== this.#end) return new ParseFailure('PD_ERR_JSON_SYNTAX', 'Extra data', i);
          this.#i = i;
          return out === undefined ? value : WRITTEN;
        }
        const valueEnd = i;
        i = skipWhitespace(s, i);
        const d = s.charCodeAt(i);
        const top = containers[depth - 1] as PyValue[] | PyObject;
        if (out === undefined ? Array.isArray(top) : !isObject[depth - 1]) {
          if (out === undefined) (top as PyValue[]).push(value);
          if (d === COMMA) {
            i = skipWhitespace(s, i + 1);
            out?.separator();
            continue parseValue;
          }
          if (d !== CLOSE_BRACKET)
            return new ParseFailure('PD_ERR_JSON_SYNTAX', "Expecting ',' delimiter", i);
          out?.byte(CLOSE_BRACKET);
        } else {
          const members = this.#objects[depth - 1] as ObjectMembers;
          // Map.set keeps the first occurrence's position and takes the last value, as a dict does.
          if (out === undefined) (top as PyObject).set(keys[depth - 1] as string, value);
          else members.end(out.len, valueEnd);
          if (d === COMMA) {
            if (!this.#scanKey(skipWhitespace(s, i + 1))) return this.#fail();
            if (out === undefined) keys[depth - 1] = this.#str;
            else {
              out.separator();
              this.#writeKey(out, members, this.#keyStart);
            }
            i = this.#i;
            continue parseValue;
          }
          if (d !== CLOSE_BRACE) return new ParseFailure('PD_ERR_JSON_SYNTAX', "Expecting ',' delimiter", i);
          if (out !== undefined) {
            members.resolveDuplicates(out);
            out.byte(CLOSE_BRACE);
          }
        }
        i++;
        depth--;
        if (out === undefined) {
          containers.pop();
          keys.pop();
          value = top;
        }
      }
    }
  }

  /** `null`, `true`, `false`, `NaN`, `Infinity` at `i`, or undefined. */
  #literal(c: number, i: number): { readonly value: PyValue; readonly text: string } | undefined {
    const s = this.#s;
    if (c === 0x6e && s.startsWith('null', i)) return NULL_LITERAL;
    if (c === 0x74 && s.startsWith('true', i)) return TRUE_LITERAL;
    if (c === 0x66 && s.startsWith('false', i)) return FALSE_LITERAL;
    if (c === 0x4e && s.startsWith('NaN', i)) return NAN_LITERAL;
    if (c === 0x49 && s.startsWith('Infinity', i)) return INFINITY_LITERAL;
    return undefined;
  }

  /** The string just scanned (its opening quote at `quote`), as json.dumps writes it. */
  #writeString(out: AsciiOut, quote: number): void {
    if (!this.#plain) out.quoted(this.#str);
    else if (this.#bytes !== undefined) out.copy(this.#bytes, quote, this.#i);
    else out.ascii(this.#s, quote, this.#i);
  }

  /** Writes the key just scanned (opening quote at `quote`) and `: `, and adds it to `members`. */
  #writeKey(out: AsciiOut, members: ObjectMembers, quote: number): void {
    const keyStart = out.len;
    const valueInput = this.#i;
    const keyEnd = this.#keyEnd;
    if (!this.#plain) out.quoted(this.#str);
    else if (this.#bytes !== undefined) out.copy(this.#bytes, quote, keyEnd);
    else out.ascii(this.#s, quote, keyEnd);
    out.byte(COLON);
    out.byte(0x20);
    members.add(this.#str, keyStart, out.len, valueInput);
  }

  #fail(): ParseFailure {
    return this.#failure ?? new ParseFailure('PD_ERR_JSON_SYNTAX', 'Invalid JSON', this.#i);
  }

  #error(message: string, index: number): false {
    this.#failure = new ParseFailure('PD_ERR_JSON_SYNTAX', message, index);
    return false;
  }

  /** Opening quote and end (after the closing quote) of the last key scanned. */
  #keyStart = 0;
  #keyEnd = 0;

  /** `"key"` then `:` at `i`; leaves `#i` at the value (whitespace skipped), the key in `#str`. */
  #scanKey(i: number): boolean {
    const s = this.#s;
    if (s.charCodeAt(i) !== QUOTE) return this.#error('Expecting property name enclosed in double quotes', i);
    if (!this.#scanString(i + 1)) return false;
    this.#keyStart = i;
    this.#keyEnd = this.#i;
    const colon = skipWhitespace(s, this.#i);
    if (s.charCodeAt(colon) !== COLON) return this.#error("Expecting ':' delimiter", colon);
    this.#i = skipWhitespace(s, colon + 1);
    return true;
  }

  /**
   * Content in [from, to) that contains non-ASCII: as is for text, decoded when `#s` is bytes.
   * Undefined (with `#failure` set) when strict decoding rejects it.
   */
  #decodedRun(from: number, to: number): string | undefined {
    const bytes = this.#bytes;
    if (bytes === undefined) return this.#s.slice(from, to);
    if (!this.#strict) return decodeUtf8Replace(bytes, from, to);
    const text = decodeUtf8Strict(bytes, from, to);
    if (text === undefined) this.#failure = new ParseFailure('PD_ERR_JSON_ENCODING', 'Invalid UTF-8', from);
    return text;
  }

  /** The string whose content starts at `start`; sets `#str`, `#plain` and `#i` (after the closing quote). */
  #scanString(start: number): boolean {
    const s = this.#s;
    let i = start;
    let nonAscii = false;
    // Fast path: no escape. Short strings (keys) are cheapest with a loop; past the probe a native
    // regex skips the plain run. `!(c >= 0x20)` is also true for NaN (end of text).
    const probeEnd = start + SHORT_PROBE;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        const str = nonAscii ? this.#decodedRun(start, i) : s.slice(start, i);
        if (str === undefined) return false;
        this.#str = str;
        this.#plain = !nonAscii;
        this.#i = i + 1;
        return true;
      }
      if (c === BACKSLASH || !(c >= 0x20)) break;
      if (c >= FIRST_ESCAPED_HIGH) {
        nonAscii = true;
        i = skipRun(PLAIN_RUN, s, i + 1);
      } else if (++i === probeEnd) {
        i = skipRun(PLAIN_ASCII_RUN, s, i);
      }
    }
    this.#plain = false;
    let out = '';
    let runStart = start;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE || c === BACKSLASH) {
        const run = nonAscii ? this.#decodedRun(runStart, i) : s.slice(runStart, i);
        if (run === undefined) return false;
        if (c === QUOTE) {
          this.#str = out + run;
          this.#i = i + 1;
          return true;
        }
        out += run;
        const e = s.charCodeAt(i + 1);
        const simple = SIMPLE_ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          i += 2;
        } else if (e === 0x75) {
          const unit =
            (hexValue(s.charCodeAt(i + 2)) << 12) |
            (hexValue(s.charCodeAt(i + 3)) << 8) |
            (hexValue(s.charCodeAt(i + 4)) << 4) |
            hexValue(s.charCodeAt(i + 5));
          // Any -1 digit makes the OR negative. Escaped surrogate pairs need no joining: two
          // UTF-16 units are what JavaScript stores anyway, and lone ones stay lone as in Python.
          if (unit < 0) return this.#error('Invalid \\uXXXX escape', i + 1);
          out += String.fromCharCode(unit);
          i += 6;
        } else if (Number.isNaN(e)) {
          return this.#error('Unterminated string starting', start - 1);
        } else {
          return this.#error('Invalid \\escape', i);
        }
        runStart = i;
        nonAscii = false;
        i = skipRun(PLAIN_ASCII_RUN, s, i);
      } else if (c >= FIRST_ESCAPED_HIGH) {
        nonAscii = true;
        i = skipRun(PLAIN_RUN, s, i + 1);
      } else if (Number.isNaN(c)) {
        return this.#error('Unterminated string starting', start - 1);
      } else {
        return this.#error('Invalid control character in string', i);
      }
    }
  }

  /**
   * A number (or `-Infinity`) at `start`; sets `#i` after it. Python's `_match_number_unicode`.
   * Returns its Python text, or null when that is the lexeme itself (an integer), or undefined.
   */
  #scanNumber(start: number): string | null | undefined {
    const s = this.#s;
    let i = start;
    const negative = s.charCodeAt(i) === MINUS;
    if (negative) i++;
    const first = s.charCodeAt(i);
    if (first === DIGIT_0) {
      i++;
    } else if (first > DIGIT_0 && first <= DIGIT_9) {
      i++;
      while (isDigit(s.charCodeAt(i))) i++;
    } else if (negative && s.startsWith('Infinity', i)) {
      this.#i = i + 8;
      return '-Infinity';
    } else {
      this.#error('Expecting value', start);
      return undefined;
    }
    let fraction = false;
    let exponent = false;
    if (s.charCodeAt(i) === 0x2e && isDigit(s.charCodeAt(i + 1))) {
      fraction = true;
      i += 2;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      // An exponent without digits is not part of the number (Python backs up to the 'e').
      let j = i + 1;
      const sign = s.charCodeAt(j);
      if (sign === 0x2b || sign === MINUS) j++;
      if (isDigit(s.charCodeAt(j))) {
        j++;
        while (isDigit(s.charCodeAt(j))) j++;
        exponent = true;
        i = j;
      }
    }
    this.#i = i;
    if (exponent) return pyFloatRepr(Number(s.slice(start, i)));
    if (fraction) {
      const lexeme = s.slice(start, i);
      return plainDecimalRepr(lexeme) ?? pyFloatRepr(Number(lexeme));
    }
    if (i - start - (negative ? 1 : 0) > PY_INT_MAX_STR_DIGITS) {
      this.#error(`Integer with more than ${PY_INT_MAX_STR_DIGITS} digits (Python's int limit)`, start);
      return undefined;
    }
    // JSON forbids leading zeros, so the lexeme is already Python's int repr, except for -0.
    return negative && i - start === 2 && first === DIGIT_0 ? '0' : null;
  }
}

const NULL_LITERAL = { value: null, text: 'null' } as const;
const TRUE_LITERAL = { value: true, text: 'true' } as const;
const FALSE_LITERAL = { value: false, text: 'false' } as const;
const NAN_LITERAL = { value: new PyNumber('NaN'), text: 'NaN' } as const;
const INFINITY_LITERAL = { value: new PyNumber('Infinity'), text: 'Infinity' } as const;

/**
 * Parses as Python's `json.loads(str)` does (after its BOM check, which the caller does), returning
 * the value or where (index into `source.scan`) and why it failed.
 */
export function parseSource(
  source: JsonSource,
  bytes: Uint8Array,
  limits: ParseLimits,
): PyValue | ParseFailure {
  // Tree mode never pauses nor returns WRITTEN.
  return new SourceParser(source, bytes, limits).run() as PyValue | ParseFailure;
}
