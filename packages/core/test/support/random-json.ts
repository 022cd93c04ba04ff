/**
 * Seeded generator of JSON-ish byte documents for the Python differential test: valid documents
 * with every lexical shape Python's json module distinguishes, and mutated ones (invalid UTF-8,
 * syntax errors, BOMs, odd whitespace) whose rejection must match too.
 */

/** mulberry32: tiny, fast, good enough to explore input shapes; reproducible from its seed. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

export interface Random {
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

const WHITESPACE = [' ', '\t', '\n', '\r', '\r\n', '  \t'];
const KEYS = [
  'max_tokens',
  'max_completion_tokens',
  'model',
  'a',
  'b',
  'content',
  '',
  'é',
  'k\\"q',
  '\\u00e9',
];
const SIMPLE_ESCAPES = ['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'];

function ws(r: Random): string {
  return r.chance(0.7) ? '' : r.pick(WHITESPACE);
}

function hex4(r: Random, unit: number): string {
  const h = unit.toString(16).padStart(4, '0');
  // Python accepts either case in \u escapes; mix them.
  return [...h].map((c) => (r.chance(0.5) ? c.toUpperCase() : c)).join('');
}

/** A code point from a range chosen to hit every escaping path (never a raw surrogate). */
function rawCodePoint(r: Random): number {
  switch (r.int(9)) {
    case 0:
      return 0x20 + r.int(0x5f); // printable ASCII
    case 1:
      return 0x7f + r.int(0x81); // DEL and Latin-1
    case 2:
      return r.pick([0x2028, 0x2029, 0xfeff, 0xfffd, 0xffff, 0x00ad, 0x200b]);
    case 3:
      return 0x100 + r.int(0xd800 - 0x100); // BMP below surrogates
    case 4:
      return 0xe000 + r.int(0x2000); // BMP above surrogates
    case 5:
      return 0x10000 + r.int(0x100000); // astral
    case 6:
      return r.pick([0x1f600, 0x10ffff, 0x10000, 0x1d11e]);
    default:
      return 0x20 + r.int(0x5f);
  }
}

function stringContent(r: Random): string {
  let out = '';
  const pieces = r.chance(0.1) ? 40 + r.int(200) : r.int(12);
  for (let i = 0; i < pieces; i++) {
    const kind = r.int(10);
    if (kind < 4) {
      const cp = rawCodePoint(r);
      out += cp === 0x22 || cp === 0x5c ? '\\' + String.fromCodePoint(cp) : String.fromCodePoint(cp);
    } else if (kind === 4) {
      out += r.pick(SIMPLE_ESCAPES);
    } else if (kind === 5) {
      out += '\\u' + hex4(r, r.int(0x10000)); // any unit, lone surrogates included
    } else if (kind === 6) {
      const cp = 0x10000 + r.int(0x100000); // escaped surrogate pair
      out +=
        '\\u' + hex4(r, 0xd800 + ((cp - 0x10000) >> 10)) + '\\u' + hex4(r, 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else if (kind === 7) {
      out += '\\u' + hex4(r, r.int(0x20)) + '\\u' + hex4(r, r.pick([0x7f, 0xd800, 0xdfff, 0xdbff, 0xdc00]));
    } else {
      out += 'plain text run '.repeat(1 + r.int(3));
    }
  }
  return out;
}

function digits(r: Random, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String.fromCharCode(0x30 + r.int(10));
  return out;
}

function integerPart(r: Random): string {
  if (r.chance(0.2)) return '0';
  const n = r.chance(0.1) ? 17 + r.int(400) : 1 + r.int(18);
  return String(1 + r.int(9)) + digits(r, n - 1);
}

/** Every lexical shape: ints (huge too), fractions, e/E with +/-, tiny/huge, -0, specials. */
function numberLexeme(r: Random): string {
  switch (r.int(12)) {
    case 0:
      return r.pick(['0', '-0', '0.0', '-0.0', '0e0', '-0E-0', '1', '-1']);
    case 1:
      return r.pick(['NaN', 'Infinity', '-Infinity']);
    case 2:
      return r.pick([
        '1e400',
        '-1e400',
        '1e-400',
        '-1e-400',
        '5e-324',
        '2e-324',
        '1.7976931348623157e308',
        '1.8e308',
      ]);
    case 3: {
      // A random double from its bits, written the way JavaScript prints it.
      const view = new DataView(new ArrayBuffer(8));
      view.setUint32(0, r.int(0x100000000));
      view.setUint32(4, r.int(0x100000000));
      const x = view.getFloat64(0);
      return Number.isFinite(x) ? String(x) : '1.5';
    }
    case 4:
      return (r.chance(0.3) ? '-' : '') + '1' + digits(r, r.chance(0.05) ? 4299 + r.int(3) : r.int(30));
    case 5: {
      const x = (r.next() - 0.5) * 10 ** (r.int(40) - 20);
      return r.chance(0.5) ? x.toExponential(r.int(20)) : x.toPrecision(1 + r.int(21));
    }
    default: {
      let lexeme = (r.chance(0.3) ? '-' : '') + integerPart(r);
      if (r.chance(0.5)) lexeme += '.' + digits(r, 1 + (r.chance(0.1) ? r.int(40) : r.int(6)));
      if (r.chance(0.4))
        lexeme += r.pick(['e', 'E']) + r.pick(['', '+', '-']) + String(r.int(r.chance(0.2) ? 400 : 25));
      return lexeme;
    }
  }
}

function value(r: Random, depth: number, budget: { nodes: number }): string {
  budget.nodes--;
  const containerChance = budget.nodes <= 0 ? 0 : depth < 3 ? 0.5 : 0.2;
  if (r.chance(containerChance)) {
    const n = r.int(6);
    const members: string[] = [];
    if (r.chance(0.5)) {
      for (let i = 0; i < n; i++) members.push(ws(r) + value(r, depth + 1, budget) + ws(r));
      return '[' + (members.length === 0 ? ws(r) : members.join(',')) + ']';
    }
    for (let i = 0; i < n; i++) {
      const key = r.chance(0.6) ? r.pick(KEYS) : stringContent(r);
      members.push(ws(r) + '"' + key + '"' + ws(r) + ':' + ws(r) + value(r, depth + 1, budget) + ws(r));
    }
    return '{' + (members.length === 0 ? ws(r) : members.join(',')) + '}';
  }
  switch (r.int(6)) {
    case 0:
      return r.pick(['true', 'false', 'null']);
    case 1:
    case 2:
      return numberLexeme(r);
    default:
      return '"' + stringContent(r) + '"';
  }
}

/** A chain of nested containers up to `maxDepth` deep, with a random value at the bottom. */
function deep(r: Random, maxDepth: number): string {
  const depth = 1 + r.int(maxDepth);
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    if (r.chance(0.5)) {
      open += '[' + ws(r);
      close = ws(r) + (r.chance(0.3) ? ',1' : '') + ']' + close;
    } else {
      const key = r.pick(KEYS);
      open += '{"' + key + '":' + ws(r);
      close = ws(r) + '}' + close;
    }
  }
  return open + value(r, depth, { nodes: 3 }) + close;
}

/** A valid JSON document (for Python) as text. */
export function validDocument(r: Random): string {
  const body = r.chance(0.1) ? deep(r, 200) : value(r, 0, { nodes: 1 + r.int(60) });
  return ws(r) + body + ws(r);
}

const BAD_BYTES: ReadonlyArray<readonly number[]> = [
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc2],
  [0xe4, 0xb8],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf0, 0x9f, 0x98],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf5],
  [0xff, 0xfe],
  [0xfe],
  [0xef, 0xbb, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];
const BAD_TEXT = [
  ',',
  ']',
  '}',
  '"',
  '\\',
  ':',
  '\u0001',
  '\u000b',
  '\u000c',
  '\u00a0',
  'x',
  '0',
  '-',
  '.',
  'e',
  'NaN',
];

/** Valid bytes damaged in a random way: Python may still accept some (e.g. bad UTF-8 in strings). */
export function mutate(r: Random, bytes: Uint8Array): Uint8Array {
  const out = [...bytes];
  const edits = 1 + r.int(3);
  for (let k = 0; k < edits; k++) {
    const at = r.int(out.length + 1);
    switch (r.int(7)) {
      case 0:
      case 1:
      case 2:
        out.splice(at, 0, ...r.pick(BAD_BYTES));
        break;
      case 3:
        out.splice(at, 1);
        break;
      case 4:
        out.splice(at, 0, ...new TextEncoder().encode(r.pick(BAD_TEXT)));
        break;
      case 5:
        out.length = at;
        break;
      default:
        out.splice(at, 0, r.int(256));
    }
  }
  if (r.chance(0.05)) out.unshift(0xef, 0xbb, 0xbf);
  return Uint8Array.from(out);
}

/** The document in one of the encodings `json.loads(bytes)` detects (python-bytes mode). */
export function pythonBytesVariant(r: Random, text: string): Uint8Array {
  const units = [...text].map((c) => c.codePointAt(0) as number);
  const kind = r.int(6);
  if (kind === 0) return Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)]);
  if (kind === 1) return new TextEncoder().encode(text);
  const out: number[] = [];
  const bigEndian = r.chance(0.5);
  const wide = kind >= 4;
  if (kind === 2 || kind === 4) {
    if (wide) out.push(...(bigEndian ? [0, 0, 0xfe, 0xff] : [0xff, 0xfe, 0, 0]));
    else out.push(...(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]));
  }
  for (const cp of units) {
    const parts =
      wide || cp < 0x10000 ? [cp] : [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)];
    for (const unit of parts) {
      const bytes = wide
        ? [(unit >>> 24) & 0xff, (unit >>> 16) & 0xff, (unit >>> 8) & 0xff, unit & 0xff]
        : [(unit >>> 8) & 0xff, unit & 0xff];
      out.push(...(bigEndian ? bytes : bytes.reverse()));
    }
  }
  return Uint8Array.from(out);
}
