import type { JsonSource } from './canonical-json-decode.js';
import { plainDecimalRepr, pyFloatRepr } from './canonical-json-float.js';
import { PY_INT_MAX_STR_DIGITS, PyNumber, type PyObject, type PyValue } from './canonical-json-types.js';
import { decodeUtf8Replace, decodeUtf8Strict } from './canonical-json-utf8.js';

export type ParseFailureCode = 'PD_ERR_JSON_SYNTAX' | 'PD_ERR_JSON_TOO_DEEP' | 'PD_ERR_JSON_ENCODING';

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

const NAN = new PyNumber('NaN');
const INFINITY = new PyNumber('Infinity');
const NEGATIVE_INFINITY = new PyNumber('-Infinity');

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
/** ...and the ASCII part of that, which needs no decoding when the text is bytes. */
const PLAIN_ASCII_RUN = /[\u0020\u0021\u0023-\u005b\u005d-\u007f]*/y;
const SHORT_PROBE = 16;

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

/**
 * Python's `json.loads` grammar (the C scanner, strict=True), building a `PyValue` tree. Scans
 * either a UTF-8 body as latin1 (decoding string contents on the way) or decoded text. Iterative
 * with an explicit container stack, so depth never touches the call stack.
 */
class SourceParser {
  readonly #s: string;
  readonly #start: number;
  readonly #maxDepth: number;
  /** Set when `#s` holds bytes as latin1: contents with bytes >= 0x80 are decoded from here. */
  readonly #bytes: Uint8Array | undefined;
  readonly #strict: boolean;
  #i = 0;
  /** Result of the last successful `#scanString`. */
  #str = '';
  #failure: ParseFailure | undefined;

  constructor(source: JsonSource, bytes: Uint8Array, maxDepth: number) {
    this.#s = source.scan;
    this.#start = source.start;
    this.#maxDepth = maxDepth;
    this.#bytes = source.kind === 'utf8' ? bytes : undefined;
    this.#strict = source.kind === 'utf8' && source.strict;
  }

  parse(): PyValue | ParseFailure {
    const s = this.#s;
    const containers: Array<PyValue[] | PyObject> = [];
    const keys: string[] = [];
    let i = skipWhitespace(s, this.#start);
    let value: PyValue;
    parseValue: for (;;) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        if (!this.#scanString(i + 1)) return this.#fail();
        value = this.#str;
        i = this.#i;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (containers.length >= this.#maxDepth) {
          return new ParseFailure('PD_ERR_JSON_TOO_DEEP', `Nesting deeper than ${this.#maxDepth} levels`, i);
        }
        const isObject = c === OPEN_BRACE;
        i = skipWhitespace(s, i + 1);
        const next = s.charCodeAt(i);
        if (next === (isObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
          value = isObject ? new Map() : [];
          i++;
        } else if (isObject) {
          if (!this.#scanKey(i)) return this.#fail();
          i = this.#i;
          containers.push(new Map());
          keys.push(this.#str);
          continue;
        } else {
          containers.push([]);
          keys.push('');
          continue;
        }
      } else if ((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS) {
        const number = this.#scanNumber(i);
        if (number === undefined) return this.#fail();
        value = number;
        i = this.#i;
      } else if (c === 0x6e && s.startsWith('null', i)) {
        value = null;
        i += 4;
      } else if (c === 0x74 && s.startsWith('true', i)) {
        value = true;
        i += 4;
      } else if (c === 0x66 && s.startsWith('false', i)) {
        value = false;
        i += 5;
      } else if (c === 0x4e && s.startsWith('NaN', i)) {
        value = NAN;
        i += 3;
      } else if (c === 0x49 && s.startsWith('Infinity', i)) {
        value = INFINITY;
        i += 8;
      } else {
        return new ParseFailure('PD_ERR_JSON_SYNTAX', 'Expecting value', i);
      }

      // A value is complete: hand it to its container, closing containers as they end.
      for (;;) {
        const depth = containers.length;
        if (depth === 0) {
          i = skipWhitespace(s, i);
          if (i !== s.length) return new ParseFailure('PD_ERR_JSON_SYNTAX', 'Extra data', i);
          return value;
        }
        const top = containers[depth - 1] as PyValue[] | PyObject;
        i = skipWhitespace(s, i);
        const d = s.charCodeAt(i);
        if (Array.isArray(top)) {
          top.push(value);
          if (d === COMMA) {
            i = skipWhitespace(s, i + 1);
            continue parseValue;
          }
          if (d !== CLOSE_BRACKET)
            return new ParseFailure('PD_ERR_JSON_SYNTAX', "Expecting ',' delimiter", i);
        } else {
          // Map.set keeps the first occurrence's position and takes the last value, as a dict does.
          top.set(keys[depth - 1] as string, value);
          if (d === COMMA) {
            if (!this.#scanKey(skipWhitespace(s, i + 1))) return this.#fail();
            i = this.#i;
            keys[depth - 1] = this.#str;
            continue parseValue;
          }
          if (d !== CLOSE_BRACE) return new ParseFailure('PD_ERR_JSON_SYNTAX', "Expecting ',' delimiter", i);
        }
        i++;
        containers.pop();
        keys.pop();
        value = top;
      }
    }
  }

  #fail(): ParseFailure {
    return this.#failure ?? new ParseFailure('PD_ERR_JSON_SYNTAX', 'Invalid JSON', this.#i);
  }

  #error(message: string, index: number): false {
    this.#failure = new ParseFailure('PD_ERR_JSON_SYNTAX', message, index);
    return false;
  }

  /** `"key"` then `:` at `i`; leaves `#i` at the value (whitespace skipped), the key in `#str`. */
  #scanKey(i: number): boolean {
    const s = this.#s;
    if (s.charCodeAt(i) !== QUOTE) return this.#error('Expecting property name enclosed in double quotes', i);
    if (!this.#scanString(i + 1)) return false;
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

  /** The string whose content starts at `start`; sets `#str` and `#i` (after the closing quote). */
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
        this.#i = i + 1;
        return true;
      }
      if (c === BACKSLASH || !(c >= 0x20)) break;
      if (c >= 0x80) {
        nonAscii = true;
        i = skipRun(PLAIN_RUN, s, i + 1);
      } else if (++i === probeEnd) {
        i = skipRun(PLAIN_ASCII_RUN, s, i);
      }
    }
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
      } else if (c >= 0x80) {
        nonAscii = true;
        i = skipRun(PLAIN_RUN, s, i + 1);
      } else if (Number.isNaN(c)) {
        return this.#error('Unterminated string starting', start - 1);
      } else {
        return this.#error('Invalid control character in string', i);
      }
    }
  }

  /** A number (or `-Infinity`) at `start`; sets `#i` after it. Python's `_match_number_unicode`. */
  #scanNumber(start: number): PyNumber | undefined {
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
      return NEGATIVE_INFINITY;
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
    const lexeme = s.slice(start, i);
    if (exponent) return new PyNumber(pyFloatRepr(Number(lexeme)));
    if (fraction) return new PyNumber(plainDecimalRepr(lexeme) ?? pyFloatRepr(Number(lexeme)));
    if (i - start - (negative ? 1 : 0) > PY_INT_MAX_STR_DIGITS) {
      this.#error(`Integer with more than ${PY_INT_MAX_STR_DIGITS} digits (Python's int limit)`, start);
      return undefined;
    }
    // JSON forbids leading zeros, so the lexeme is already Python's int repr, except for -0.
    return new PyNumber(lexeme === '-0' ? '0' : lexeme);
  }
}

/**
 * Parses as Python's `json.loads(str)` does (after its BOM check, which the caller does), returning
 * the value or where (index into `source.scan`) and why it failed.
 */
export function parseSource(source: JsonSource, bytes: Uint8Array, maxDepth: number): PyValue | ParseFailure {
  return new SourceParser(source, bytes, maxDepth).parse();
}
