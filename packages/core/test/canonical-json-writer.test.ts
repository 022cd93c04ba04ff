import { describe, expect, it } from 'vitest';
import type { PyObject, PyValue } from '../src/canonical-json.js';
import {
  CanonicalRequestJob,
  canonicalize,
  canonicalRequest,
  PyNumber,
  parsePyJson,
  serializePyJson,
} from '../src/canonical-json.js';
import type { Result } from '../src/result.js';
import { createRandom, mutate, pythonBytesVariant, validDocument } from './support/random-json.js';

// canonicalize writes json.dumps straight from the bytes (the parser's writer mode); parsePyJson
// builds values (tree mode) that serializePyJson prints. Both share the grammar, and the Python
// differential test checks the writer against Python; this checks the two modes against each
// other on many more shapes, errors included, and the sliced job against the one-shot functions.

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const DOCUMENTS = 3_000;

function outcome(result: Result<string>): string {
  return result.ok
    ? `ok ${result.value}`
    : `err ${result.error.code} @${String(result.error.position)} ${result.error.message}`;
}

function viaTree(input: Uint8Array, options?: { encoding?: 'python-bytes' }): string {
  const parsed = parsePyJson(input, options);
  return outcome(parsed.ok ? { ok: true, value: serializePyJson(parsed.value) } : parsed);
}

function documents(seed: number, count: number): Array<{ bytes: Uint8Array; bytesMode: boolean }> {
  const r = createRandom(seed);
  const out: Array<{ bytes: Uint8Array; bytesMode: boolean }> = [];
  for (let k = 0; k < count; k++) {
    const text = validDocument(r);
    const bytesMode = r.chance(0.2);
    let bytes = bytesMode ? pythonBytesVariant(r, text) : utf8(text);
    if (r.chance(0.3)) bytes = mutate(r, bytes);
    out.push({ bytes, bytesMode });
  }
  return out;
}

/** Runs a job to its end in slices of `slice` bytes. */
function sliced(
  input: Uint8Array,
  slice: number,
  options?: { encoding?: 'python-bytes'; maxElements?: number },
) {
  const job = new CanonicalRequestJob(input, options);
  let steps = 0;
  while (!job.step(slice)) steps++;
  return { result: job.result(), steps };
}

describe('the writer (canonicalize) and the tree (parsePyJson + serializePyJson) agree', () => {
  it(`on ${DOCUMENTS} random documents, valid and mutated, both encodings`, () => {
    let accepted = 0;
    for (const { bytes, bytesMode } of documents(0x5eed, DOCUMENTS)) {
      const options = bytesMode ? { encoding: 'python-bytes' as const } : undefined;
      const written = outcome(canonicalize(bytes, options));
      expect(written, Buffer.from(bytes).toString('base64')).toBe(viaTree(bytes, options));
      if (written.startsWith('ok')) accepted++;
    }
    // Both outcomes are exercised.
    expect(accepted).toBeGreaterThan(DOCUMENTS / 4);
    expect(accepted).toBeLessThan(DOCUMENTS);
  });

  it.each([
    ['{"a":1,"b":2,"a":3}', '{"a": 3, "b": 2}'],
    ['{"a":{"x":1,"x":[2,{"y":1,"y":2}]},"a":{"z":0}}', '{"a": {"z": 0}}'],
    ['[{"k":1,"k":2,"j":3,"k":4}, {"k":5}]', '[{"k": 4, "j": 3}, {"k": 5}]'],
    [
      `{${Array.from({ length: 20 }, (_, i) => `"k${i % 12}":${i}`).join(',')}}`,
      `{${Array.from({ length: 12 }, (_, i) => `"k${i}": ${i < 8 ? i + 12 : i}`).join(', ')}}`,
    ],
    ['{"\\u0061":1,"a":2}', '{"a": 2}'],
    ['{"a\\u007f":"\\u007f\u007f"}', '{"a\\u007f": "\\u007f\\u007f"}'],
  ])('resolves repeated keys as a dict does: %s', (input, expected) => {
    expect(canonicalize(utf8(input))).toEqual({ ok: true, value: expected });
    expect(viaTree(utf8(input))).toBe(`ok ${expected}`);
  });
});

describe('CanonicalRequestJob', () => {
  it('gives the same result in slices of any size as canonicalRequest in one go', () => {
    const r = createRandom(42);
    for (let k = 0; k < 300; k++) {
      const text = `{"prompt": ${validDocument(r)}, "max_tokens": 9, "n": [1, {"a": 2}]}`;
      const input = r.chance(0.2) ? mutate(r, utf8(text)) : utf8(text);
      const once = canonicalRequest(input);
      const { result } = sliced(input, 1 + r.int(40));
      expect(result.ok).toBe(once.ok);
      if (result.ok && once.ok) {
        expect([result.value.decode, result.value.prefill]).toEqual([once.value.decode, once.value.prefill]);
        expect(serializePyJson(result.value.body)).toBe(once.value.decode);
      } else if (!result.ok && !once.ok) {
        expect([result.error.code, result.error.position]).toEqual([once.error.code, once.error.position]);
      }
    }
  });

  it('stops about every slice: a 1 MB body in 64 KiB slices takes about 16 steps', () => {
    const input = utf8(`{"prompt": [${'12345, '.repeat(150_000)}1]}`);
    const { result, steps } = sliced(input, 64 * 1024);
    expect(result.ok).toBe(true);
    expect(steps).toBeGreaterThanOrEqual(Math.floor(input.length / (64 * 1024)) - 1);
    expect(steps).toBeLessThanOrEqual(Math.ceil(input.length / (64 * 1024)) + 1);
  });

  it('refuses more values than maxElements, counting every value and the root', () => {
    // Root object + array + 3 numbers + "x" = 6 values.
    const input = utf8('{"a": [1, 2, 3], "b": "x"}');
    expect(sliced(input, 3, { maxElements: 6 }).result.ok).toBe(true);
    const refused = sliced(input, 3, { maxElements: 5 }).result;
    expect(!refused.ok && [refused.error.code, refused.error.position]).toEqual([
      'PD_ERR_JSON_TOO_MANY_ELEMENTS',
      22,
    ]);
    const tree = parsePyJson(input, { maxElements: 5 });
    expect(!tree.ok && tree.error.code).toBe('PD_ERR_JSON_TOO_MANY_ELEMENTS');
    expect(() => canonicalize(input, { maxElements: 0 })).toThrow(RangeError);
  });
});

describe("canonicalRequest's body", () => {
  const input = utf8('{"user":"u","prompt":[1,2.50,"é"],"user":"v","m":{"k":null},"max_tokens":3}');

  it('reads members without parsing the others, and equals the parsed tree', () => {
    const request = canonicalRequest(input);
    if (!request.ok) throw request.error;
    const body = request.value.body;
    expect(body.size).toBe(4);
    expect(body.has('prompt')).toBe(true);
    expect(body.has('nope')).toBe(false);
    expect(body.get('nope')).toBeUndefined();
    expect(body.get('user')).toBe('v');
    const prompt = body.get('prompt') as PyValue[];
    expect([(prompt[0] as PyNumber).text, (prompt[1] as PyNumber).text, prompt[2]]).toEqual([
      '1',
      '2.5',
      'é',
    ]);
    // The same object on a second read.
    expect(body.get('prompt')).toBe(prompt);
    const tree = parsePyJson(input);
    expect(tree.ok && [...(tree.value as PyObject).keys()]).toEqual(['user', 'prompt', 'm', 'max_tokens']);
    expect(serializePyJson(body)).toBe(request.value.decode);
    expect(body.get('prompt')).toBe(prompt);
  });

  it('behaves as a Map once edited', () => {
    const request = canonicalRequest(input);
    if (!request.ok) throw request.error;
    const body = request.value.body;
    body.set('n', new PyNumber('2'));
    body.delete('m');
    expect([...body.keys()]).toEqual(['user', 'prompt', 'max_tokens', 'n']);
    expect(body.size).toBe(4);
    expect(serializePyJson(body)).toBe(
      '{"user": "v", "prompt": [1, 2.5, "\\u00e9"], "max_tokens": 3, "n": 2}',
    );
  });

  it('works for UTF-16 bodies (python-bytes), whose scan indexes are not byte offsets', () => {
    const text = '{"a": "é", "b": [1, {"c": "😀"}]}';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const request = canonicalRequest(utf16, { encoding: 'python-bytes' });
    if (!request.ok) throw request.error;
    expect(serializePyJson(request.value.body.get('b') as PyValue)).toBe('[1, {"c": "\\ud83d\\ude00"}]');
    expect(request.value.body.get('a')).toBe('é');
  });
});
