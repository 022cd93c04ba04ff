import { describe, expect, it } from 'vitest';
import {
  canonicalize,
  canonicalRequest,
  PyNumber,
  type PyObject,
  type PyValue,
  parsePyJson,
  prefillBody,
  serializePyJson,
  withPrefillEdits,
} from './canonical-json.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const raw = (...parts: Array<string | number[]>): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...utf8(p)] : p)));

function canon(input: Uint8Array | string): string {
  const result = canonicalize(typeof input === 'string' ? utf8(input) : input);
  if (!result.ok) throw new Error(`unexpected ${result.error.code}: ${result.error.message}`);
  return result.value;
}

function errorOf(input: Uint8Array | string, encoding?: 'python-bytes'): { code: string; position?: number } {
  const bytes = typeof input === 'string' ? utf8(input) : input;
  const result = canonicalize(bytes, encoding === undefined ? {} : { encoding });
  if (result.ok) throw new Error(`expected an error, got ${result.value}`);
  return { code: result.error.code, position: result.error.position as number };
}

describe('canonicalize: escapes (expected bytes from Python json.dumps)', () => {
  it('escapes like ensure_ascii, keeps lone surrogates, never escapes /', () => {
    const input = raw(
      '{"a":"\\ud83d\\ude00 ',
      [0xc3, 0xa9],
      ' \\u2028 ',
      [0x7f],
      ' \\/ \\u0000\\u000b \\uD800 \\udc00x \\" \\\\ \\b\\f\\n\\r\\t"}',
    );
    expect(canon(input)).toBe(
      '{"a": "\\ud83d\\ude00 \\u00e9 \\u2028 \\u007f / \\u0000\\u000b \\ud800 \\udc00x \\" \\\\ \\b\\f\\n\\r\\t"}',
    );
  });

  it.each([
    [[0xf0, 0x9f, 0x98, 0x80], '"\\ud83d\\ude00"'],
    [[0xe2, 0x80, 0xa8, 0xef, 0xbb, 0xbf, 0xef, 0xbf, 0xbd], '"\\u2028\\ufeff\\ufffd"'],
    [[0xff, 0xfe], '"\\ufffd\\ufffd"'],
    [[0xe4, 0xb8], '"\\ufffd"'],
    [[0xed, 0xa0, 0x80], '"\\ufffd\\ufffd\\ufffd"'],
    [[0xf4, 0x90, 0x80, 0x80], '"\\ufffd\\ufffd\\ufffd\\ufffd"'],
    [[0xc0, 0xaf], '"\\ufffd\\ufffd"'],
  ])('raw bytes %j inside a string → %s (errors="replace")', (bytes, expected) => {
    expect(canon(raw('"', bytes, '"'))).toBe(expected);
  });

  it('escapes every non-ASCII unit in long strings with quotes and newlines', () => {
    const long = 'x'.repeat(100) + 'é"\n' + 'y'.repeat(100) + '日本';
    expect(canon(JSON.stringify(long))).toBe(
      '"' + 'x'.repeat(100) + '\\u00e9\\"\\n' + 'y'.repeat(100) + '\\u65e5\\u672c"',
    );
  });
});

describe('canonicalize: values', () => {
  it('keeps integers exact and prints -0 as 0', () => {
    expect(canon('[9007199254740993, -0, 100000000000000000000, 0, -42]')).toBe(
      '[9007199254740993, 0, 100000000000000000000, 0, -42]',
    );
  });

  it('accepts NaN, Infinity and -Infinity and flattens whitespace', () => {
    expect(canon(' \t\r\n[NaN,Infinity , -Infinity,true,false,null,{},[]]\n')).toBe(
      '[NaN, Infinity, -Infinity, true, false, null, {}, []]',
    );
  });

  it('keeps the first position and the last value of duplicate keys, at every level', () => {
    expect(canon('{"a":1,"b":{"x":1,"y":2,"x":3},"a":2}')).toBe('{"a": 2, "b": {"x": 3, "y": 2}}');
  });

  it('rejects integers longer than Python accepts (4300 digits) but not floats', () => {
    expect(canon('-' + '1'.repeat(4300))).toBe('-' + '1'.repeat(4300));
    expect(errorOf('1'.repeat(4301)).code).toBe('PD_ERR_JSON_SYNTAX');
    expect(canon('1'.repeat(4301) + '.0')).toBe('Infinity');
  });
});

describe('canonicalize: what Python rejects', () => {
  it.each([
    ['', 0],
    ['   ', 3],
    ['{"a":1} x', 8],
    ['[1,]', 3],
    ['{"a":1,}', 7],
    ['01', 1],
    ['1.', 1],
    ['.5', 0],
    ['+1', 0],
    ['-', 0],
    ['-NaN', 0],
    ['nul', 0],
    ["{'a':1}", 1],
    ['{"a" 1}', 5],
    ['[1 2]', 3],
    ['"\\x"', 1],
    ['"\\u12G4"', 2],
    ['"abc', 0],
    ['"a\tb"', 2],
    ['\f1', 0],
    ['[1]\u00a0', 3],
  ])('%j → PD_ERR_JSON_SYNTAX at byte %i', (input, position) => {
    expect(errorOf(input)).toEqual({ code: 'PD_ERR_JSON_SYNTAX', position });
  });

  it('rejects a UTF-8 BOM, as json.loads(str) does', () => {
    expect(errorOf(raw([0xef, 0xbb, 0xbf], '{}'))).toEqual({ code: 'PD_ERR_JSON_SYNTAX', position: 0 });
  });

  it('reports byte offsets, not character offsets, after non-ASCII text', () => {
    expect(errorOf(raw('["', [0xe6, 0x97, 0xa5], '",]')).position).toBe(7);
  });

  it('rejects 100,000 levels of nesting with a result, not a stack overflow', () => {
    expect(errorOf('['.repeat(100_000)).code).toBe('PD_ERR_JSON_TOO_DEEP');
    expect(errorOf('{"a":'.repeat(100_000)).code).toBe('PD_ERR_JSON_TOO_DEEP');
  });

  it('accepts exactly maxDepth levels (default 512), counting empty containers', () => {
    expect(canonicalize(utf8('['.repeat(512) + ']'.repeat(512))).ok).toBe(true);
    expect(errorOf('['.repeat(513) + ']'.repeat(513))).toEqual({
      code: 'PD_ERR_JSON_TOO_DEEP',
      position: 512,
    });
    expect(canonicalize(utf8('[[[]]]'), { maxDepth: 2 }).ok).toBe(false);
    expect(() => canonicalize(utf8('1'), { maxDepth: 0 })).toThrow(RangeError);
  });

  it('parses and serializes a deep document (10,000 levels) when allowed', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    expect(canonicalize(utf8(deep), { maxDepth: 10_000 })).toEqual({ ok: true, value: deep });
    const parsed = parsePyJson(utf8(deep), { maxDepth: 10_000 });
    expect(parsed.ok && serializePyJson(parsed.value)).toBe(deep);
  });
});

describe("encoding: 'python-bytes' (json.loads on bytes)", () => {
  const pyBytes = (input: Uint8Array): string => {
    const result = canonicalize(input, { encoding: 'python-bytes' });
    if (!result.ok) throw new Error(result.error.message);
    return result.value;
  };
  const utf16le = (text: string): number[] => [...text].flatMap((c) => [c.charCodeAt(0), 0]);

  it('strips a UTF-8 BOM (utf-8-sig) instead of rejecting it', () => {
    expect(pyBytes(raw([0xef, 0xbb, 0xbf], '{"a": 1}'))).toBe('{"a": 1}');
  });

  it('detects UTF-16 and UTF-32 by BOM and by NUL pattern', () => {
    expect(pyBytes(raw(utf16le('[1]')))).toBe('[1]');
    expect(pyBytes(raw([0xff, 0xfe], utf16le('"\u00e9"')))).toBe('"\\u00e9"');
    expect(pyBytes(raw([0xfe, 0xff, 0, 0x31]))).toBe('1');
    expect(pyBytes(raw([0, 0, 0, 0x31]))).toBe('1');
    expect(pyBytes(raw([0x31, 0, 0, 0]))).toBe('1');
    expect(pyBytes(raw([0xff, 0xfe, 0, 0, 0x31, 0, 0, 0]))).toBe('1');
  });

  it('lets UTF-8 encoded surrogates through (surrogatepass)', () => {
    expect(pyBytes(raw('"', [0xed, 0xa0, 0x80], '"'))).toBe('"\\ud800"');
  });

  it('rejects undecodable bytes with PD_ERR_JSON_ENCODING, even outside strings', () => {
    expect(errorOf(raw('"', [0xed, 0xa0], '"'), 'python-bytes')).toEqual({
      code: 'PD_ERR_JSON_ENCODING',
      position: 1,
    });
    expect(errorOf(raw('[1] ', [0xff]), 'python-bytes')).toEqual({
      code: 'PD_ERR_JSON_ENCODING',
      position: 4,
    });
    expect(errorOf(raw(utf16le('[1]'), [0x20]), 'python-bytes').code).toBe('PD_ERR_JSON_ENCODING');
    expect(errorOf(raw([0x31, 0, 0, 0, 0, 0, 0x11, 0]), 'python-bytes').code).toBe('PD_ERR_JSON_ENCODING');
  });
});

describe('prefill edits', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['{"max_tokens":50,"n":1}', '{"max_tokens": 50, "n": 1}', '{"max_tokens": 1, "n": 1}'],
    ['{"n":1,"max_tokens":null}', '{"n": 1, "max_tokens": null}', '{"n": 1, "max_tokens": 1}'],
    ['{"n":1}', '{"n": 1}', '{"n": 1, "max_tokens": 1}'],
    ['{}', '{}', '{"max_tokens": 1}'],
    [
      '{"max_completion_tokens":"x","n":1}',
      '{"max_completion_tokens": "x", "n": 1}',
      '{"max_completion_tokens": 1, "n": 1, "max_tokens": 1}',
    ],
    [
      '{"max_tokens":7,"max_completion_tokens":9,"max_tokens":8}',
      '{"max_tokens": 8, "max_completion_tokens": 9}',
      '{"max_tokens": 1, "max_completion_tokens": 1}',
    ],
    ['{"m":{"max_tokens":5}}', '{"m": {"max_tokens": 5}}', '{"m": {"max_tokens": 5}, "max_tokens": 1}'],
  ];

  it.each(cases)('%s', (input, decode, prefill) => {
    const request = canonicalRequest(utf8(input));
    expect(request.ok && request.value.decode).toBe(decode);
    expect(request.ok && request.value.prefill).toBe(prefill);
    expect(prefillBody(utf8(input))).toEqual({ ok: true, value: prefill });
    expect(canonicalize(utf8(input))).toEqual({ ok: true, value: decode });
  });

  it('leaves the parsed body unedited and returns an edited copy', () => {
    const request = canonicalRequest(utf8('{"max_tokens":50}'));
    if (!request.ok) throw request.error;
    const edited = withPrefillEdits(request.value.body);
    expect(serializePyJson(request.value.body)).toBe('{"max_tokens": 50}');
    expect(serializePyJson(edited)).toBe('{"max_tokens": 1}');
  });

  it('gives the same bytes from canonicalRequest and canonicalize for wide (CJK, astral) text', () => {
    const text = '日本語のテキスト 😀 '.repeat(300);
    const input = utf8(JSON.stringify({ 中文: text, max_tokens: 3, short: 'é中' }));
    const request = canonicalRequest(input);
    const decode = canonicalize(input);
    expect(request.ok && decode.ok && request.value.decode === decode.value).toBe(true);
    const prefill = prefillBody(input);
    expect(request.ok && prefill.ok && request.value.prefill === prefill.value).toBe(true);
    expect(decode.ok && /^[\x20-\x7e]*$/.test(decode.value)).toBe(true);
  });

  it('reports where the non-object starts, in bytes, also for UTF-16 bodies', () => {
    const result = canonicalRequest(raw([0xff, 0xfe, 0x20, 0, 0x5b, 0, 0x5d, 0]), {
      encoding: 'python-bytes',
    });
    expect(!result.ok && [result.error.code, result.error.position]).toEqual(['PD_ERR_JSON_NOT_OBJECT', 4]);
  });

  it.each(['[]', '"s"', '1', 'null'])('rejects the non-object %s with PD_ERR_JSON_NOT_OBJECT', (input) => {
    for (const result of [prefillBody(utf8(` ${input}`)), canonicalRequest(utf8(` ${input}`))]) {
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect([result.error.code, result.error.position]).toEqual(['PD_ERR_JSON_NOT_OBJECT', 1]);
    }
  });
});

describe('parsePyJson / serializePyJson', () => {
  it('returns Maps in dict order and PyNumbers with Python text', () => {
    const parsed = parsePyJson(utf8('{"b":[1E5,-0],"a":"\\u00e9"}'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const body = parsed.value as PyObject;
    expect([...body.keys()]).toEqual(['b', 'a']);
    expect((body.get('b') as PyValue[]).map((n) => (n as PyNumber).text)).toEqual(['100000.0', '0']);
    expect(body.get('a')).toBe('é');
  });

  it('serializes values built by hand and refuses cycles', () => {
    const list: PyValue[] = [new PyNumber('1.5'), 'é', null];
    expect(serializePyJson(new Map<string, PyValue>([['k', list]]))).toBe('{"k": [1.5, "\\u00e9", null]}');
    list.push(list);
    expect(() => serializePyJson(list)).toThrow(/circular/);
  });

  it('never throws on bad input bytes', () => {
    for (let i = 0; i < 1000; i++) {
      const bytes = Uint8Array.from({ length: i % 17 }, (_, k) => (i * 31 + k * 7) & 0xff);
      expect(() => canonicalize(bytes)).not.toThrow();
      expect(() => canonicalize(bytes, { encoding: 'python-bytes' })).not.toThrow();
    }
  });
});
