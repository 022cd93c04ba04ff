import { Buffer } from 'node:buffer';
import { PyNumber, type PyObject, type PyValue } from './canonical-json-types.js';

/** Every UTF-16 unit Python's ensure_ascii output does not copy verbatim. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: controls are among the units to escape.
const PLAIN_OUTPUT_RUN = /[^\u0000-\u001f"\\\u007f-\uffff]*/y;

/** Below this length a charCodeAt loop beats a regex call (keys, roles, short values). */
const SHORT_STRING = 24;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Python's escape of each ASCII unit that needs one; lower-case `\u00XX` for other controls. */
const ASCII_ESCAPES: readonly string[] = Array.from({ length: 0x80 }, (_, c) => {
  const short: Record<number, string> = {
    34: '\\"',
    92: '\\\\',
    10: '\\n',
    13: '\\r',
    9: '\\t',
    8: '\\b',
    12: '\\f',
  };
  return short[c] ?? '\\u00' + (HEX_BYTE[c] as string);
});

/**
 * Set when a string had a unit above 0xFF. V8 then keeps slices of it as two-byte strings even
 * though the escaped output is pure ASCII, and one such piece makes the whole joined body
 * two-byte: twice the memory and a slower write to a socket. The top-level functions narrow
 * their output once instead.
 */
let sawWideUnit = false;

/** Whether Python's ensure_ascii output changes this UTF-16 unit. */
function needsEscape(c: number): boolean {
  return c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c;
}

/** The escape of one unit. Astral characters are two units, hence surrogate pairs. */
function escapeUnit(c: number): string {
  if (c < 0x80) return ASCII_ESCAPES[c] as string;
  if (c > 0xff) sawWideUnit = true;
  return '\\u' + HEX_BYTE[c >> 8] + HEX_BYTE[c & 0xff];
}

/** Smaller outputs may stay two-byte: narrowing them costs more than it saves. */
const NARROW_MIN_LENGTH = 4096;

/** An ASCII string as a flat one-byte string (also flattens a rope). */
function narrow(ascii: string): string {
  return Buffer.from(ascii, 'latin1').toString('latin1');
}

function isPlainShort(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    if (needsEscape(s.charCodeAt(i))) return false;
  }
  return true;
}

/** Index of the first unit at or after `i` that needs an escape (or `s.length`). */
function plainRunEnd(s: string, i: number): number {
  PLAIN_OUTPUT_RUN.lastIndex = i;
  PLAIN_OUTPUT_RUN.test(s);
  return PLAIN_OUTPUT_RUN.lastIndex;
}

/**
 * A string as Python's `json.dumps` (ensure_ascii=True) writes it, quotes included: `\"`, `\\`,
 * \b \f \n \r \t, other controls and everything from 0x7F up as lower-case `\uXXXX` (one per
 * UTF-16 unit, so astral characters become surrogate pairs and lone surrogates stay lone).
 *
 * @example pyQuote('é/"') // '"\\u00e9/\\""'
 */
export function pyQuote(s: string): string {
  if (s.length < SHORT_STRING && isPlainShort(s)) return '"' + s + '"';
  const n = s.length;
  // A native regex skips each plain run; runs of units to escape (CJK text) are looped over.
  let j = plainRunEnd(s, 0);
  if (j === n) return '"' + s + '"';
  let out = '"' + s.slice(0, j);
  for (;;) {
    let c = s.charCodeAt(j);
    do {
      out += escapeUnit(c);
      c = s.charCodeAt(++j);
    } while (j < n && needsEscape(c));
    if (j === n) return out + '"';
    const end = plainRunEnd(s, j);
    out += s.slice(j, end);
    if (end === n) return out + '"';
    j = end;
  }
}

interface ArrayFrame {
  readonly array: PyValue[];
  index: number;
}

interface ObjectFrame {
  readonly entries: MapIterator<[string, PyValue]>;
  readonly object: PyObject;
}

function scalarText(value: null | boolean | string | PyNumber): string {
  if (typeof value === 'string') return pyQuote(value);
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  return value.text;
}

/** Subtrees deeper than this are written by the iterative walker (no call-stack growth). */
const RECURSION_LIMIT = 64;

/** Recursive writer: fastest for the shallow documents requests are. */
function write(value: PyValue, depth: number): string {
  if (typeof value === 'string') return pyQuote(value);
  if (typeof value !== 'object' || value === null || value instanceof PyNumber) return scalarText(value);
  if (depth >= RECURSION_LIMIT) return writeIterative(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    let out = '[' + write(value[0] as PyValue, depth + 1);
    for (let i = 1; i < value.length; i++) out += ', ' + write(value[i] as PyValue, depth + 1);
    return out + ']';
  }
  let out = '';
  for (const [key, member] of value) {
    out += (out === '' ? '{' : ', ') + pyQuote(key) + ': ' + write(member, depth + 1);
  }
  return out === '' ? '{}' : out + '}';
}

/**
 * `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, ensure_ascii, no
 * newline. The output is ASCII, so its latin1 and UTF-8 bytes are the same.
 * Any depth is safe (deep subtrees are walked iteratively); a container that contains itself is a
 * programmer error and throws TypeError (Python raises "Circular reference detected").
 *
 * @example serializePyJson(new Map([['a', [new PyNumber('1e-05'), 'é']]])) // '{"a": [1e-05, "\\u00e9"]}'
 */
export function serializePyJson(value: PyValue): string {
  sawWideUnit = false;
  const out = write(value, 0);
  return sawWideUnit && out.length >= NARROW_MIN_LENGTH ? narrow(out) : out;
}

/** Iterative writer with an explicit stack; tracks open containers to detect cycles. */
function writeIterative(value: PyValue[] | PyObject): string {
  let out = '';
  const stack: Array<ArrayFrame | ObjectFrame> = [];
  const open = new Set<PyValue[] | PyObject>();
  let current: PyValue = value;
  for (;;) {
    // Write `current`; a non-empty container is opened and its first member becomes `current`.
    if (typeof current !== 'object' || current === null || current instanceof PyNumber) {
      out += scalarText(current);
    } else if (Array.isArray(current)) {
      if (current.length === 0) {
        out += '[]';
      } else {
        enter(open, current);
        stack.push({ array: current, index: 0 });
        out += '[';
        current = current[0] as PyValue;
        continue;
      }
    } else {
      const entries = current.entries();
      const first = entries.next();
      if (first.done === true) {
        out += '{}';
      } else {
        enter(open, current);
        stack.push({ entries, object: current });
        out += '{' + pyQuote(first.value[0]) + ': ';
        current = first.value[1];
        continue;
      }
    }
    // Move to the next member, closing every container that has none left.
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) return out;
      if ('array' in frame) {
        const next = ++frame.index;
        if (next < frame.array.length) {
          out += ', ';
          current = frame.array[next] as PyValue;
          break;
        }
        out += ']';
        open.delete(frame.array);
      } else {
        const next = frame.entries.next();
        if (next.done !== true) {
          out += ', ' + pyQuote(next.value[0]) + ': ';
          current = next.value[1];
          break;
        }
        out += '}';
        open.delete(frame.object);
      }
      stack.pop();
    }
  }
}

function enter(open: Set<PyValue[] | PyObject>, container: PyValue[] | PyObject): void {
  if (open.has(container)) throw new TypeError('serializePyJson: circular reference detected');
  open.add(container);
}
