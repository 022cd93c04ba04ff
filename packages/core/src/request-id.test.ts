import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectCoreError } from '../test/support/expect-core-error.js';
import { CoreError } from './errors.js';
import { createRequestId, parseRequestId, parseZmqAddress, type ZmqAddress } from './request-id.js';

const RANDOM = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
const RANDOM_HEX = '00112233445566778899aabbccddeeff';

function zmq(text: string): ZmqAddress {
  const r = parseZmqAddress(text);
  if (!r.ok) throw r.error;
  return r.value;
}

describe('parseZmqAddress', () => {
  it.each([
    ['127.0.0.1:21001', '127.0.0.1', 21001],
    ['10.0.1.2:1', '10.0.1.2', 1],
    ['0.0.0.0:65535', '0.0.0.0', 65535],
    ['localhost:5555', 'localhost', 5555],
    ['prefill-0.vllm.svc.cluster.local:14579', 'prefill-0.vllm.svc.cluster.local', 14579],
    ['my_worker:14580', 'my_worker', 14580],
    ['a__b:1', 'a__b', 1],
    ['host_:1', 'host_', 1],
  ])('accepts %s', (text, host, port) => {
    expect(parseZmqAddress(text)).toEqual({ ok: true, value: { host, port, text } });
  });

  it.each([
    ['10.0.0.1', 'missing ":port"'],
    ['10.0.0.1:', 'the port is empty'],
    [':5555', 'the host is empty'],
    ['10.0.0.1:0', 'out of range'],
    ['10.0.0.1:00', 'leading zero'],
    ['10.0.0.1:99999999999999999999', 'out of range'],
    ['10.0.0.1:65536', 'out of range'],
    ['10.0.0.1:021001', 'leading zero'],
    ['10.0.0.1:+80', 'not a decimal number'],
    ['10.0.0.1:8o', 'not a decimal number'],
    ['[::1]:5555', 'IPv6'],
    ['::1:5555', 'IPv6'],
    ['fe80::1%eth0:5555', 'IPv6'],
    ['host:1:2', "only one ':'"],
    ['tcp://10.0.0.1:5555', 'without a scheme'],
    ['a___b:1', "'___'"],
    ['__decode_addr_x:1', "start with '__'"],
    ['x___decode_addr_evil:1', "'___'"],
    ['999.0.0.1:1', 'dotted-quad'],
    ['10.0.0:1', 'dotted-quad'],
    ['010.0.0.1:1', 'dotted-quad'],
    ['a..b:1', 'empty label'],
    ['-a:1', 'may only contain'],
    ['host name:1', 'may only contain'],
    ['héte:1', 'may only contain'],
    ['a\nb:1', 'may only contain'],
    [' 10.0.0.1:1', 'may only contain'],
    [`${'a'.repeat(64)}:1`, 'longer than 63'],
    [`${'a.'.repeat(127)}a:1`, 'longer than 253'],
  ])('rejects %j (%s)', (text, why) => {
    expectCoreError(
      parseZmqAddress(text),
      'PD_ERR_ZMQ_ADDRESS_INVALID',
      `invalid ZMQ address "${text}"`,
      why,
    );
  });
});

describe('createRequestId', () => {
  it('builds the reference proxy format with the given bytes as 32 lower-case hex', () => {
    expect(createRequestId('127.0.0.1:21001', '127.0.0.1:22001', RANDOM)).toBe(
      `___prefill_addr_127.0.0.1:21001___decode_addr_127.0.0.1:22001_${RANDOM_HEX}`,
    );
    expect(createRequestId(zmq('p:1'), zmq('d:2'), new Uint8Array(16))).toBe(
      `___prefill_addr_p:1___decode_addr_d:2_${'0'.repeat(32)}`,
    );
  });

  it('throws the coded error for an invalid address string and RangeError for a wrong byte count', () => {
    expect(() => createRequestId('[::1]:1', 'd:2', RANDOM)).toThrow(
      expect.objectContaining({ code: 'PD_ERR_ZMQ_ADDRESS_INVALID' }),
    );
    expect(() => createRequestId('p:1', 'd', RANDOM)).toThrow(CoreError);
    expect(() => createRequestId('p:1', 'd:2', new Uint8Array(15))).toThrow(RangeError);
    expect(() => createRequestId('p:1', 'd:2', new Uint8Array(17))).toThrow(RangeError);
  });

  it('round-trips through parseRequestId, with vLLM prefixes and suffixes', () => {
    const p = zmq('10.0.1.2:21001');
    const d = zmq('10.0.1.3:22001');
    const id = createRequestId(p, d, RANDOM);
    for (const seen of [id, `cmpl-${id}`, `chatcmpl-${id}`, `cmpl-${id}-0`, `cmpl-${id}-0-1a2b3c4d`]) {
      expect(parseRequestId(seen)).toEqual({ prefill: p, decode: d });
    }
  });

  it('round-trips every address parseZmqAddress accepts (property)', () => {
    const label = fc.stringMatching(/^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,6}[A-Za-z0-9_])?$/);
    const host = fc.oneof(
      fc.ipV4(),
      fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.')),
    );
    const address = fc.tuple(host, fc.integer({ min: 1, max: 65_535 })).map(([h, p]) => `${h}:${p}`);
    fc.assert(
      fc.property(
        address,
        address,
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (pText, dText, bytes) => {
          const p = parseZmqAddress(pText);
          const d = parseZmqAddress(dText);
          fc.pre(p.ok && d.ok);
          if (!p.ok || !d.ok) return;
          const id = createRequestId(p.value, d.value, bytes);
          expect(id).toMatch(/_[0-9a-f]{32}$/);
          expect(parseRequestId(`cmpl-${id}-0-1a2b3c4d`)).toEqual({ prefill: p.value, decode: d.value });
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('parseRequestId', () => {
  it('returns only the sides whose regex matches', () => {
    expect(parseRequestId('cmpl-9f3c')).toEqual({});
    expect(parseRequestId('x___decode_addr_d:2')).toEqual({ decode: { host: 'd', port: 2, text: 'd:2' } });
    // The prefill pattern needs '___' after the port; the decode one does not.
    expect(parseRequestId('___prefill_addr_p:1_abc')).toEqual({});
    expect(parseRequestId('___prefill_addr_p:1___')).toEqual({
      prefill: { host: 'p', port: 1, text: 'p:1' },
    });
  });

  it('is greedy like vLLM: a late ":digits___" swallows the decode address into the prefill host', () => {
    const id = '___prefill_addr_a:1___decode_addr_b:2___x:3';
    expect(parseRequestId(id)).toEqual({
      prefill: { host: 'a:1___decode_addr_b', port: 2, text: 'a:1___decode_addr_b:2' },
      decode: { host: 'b:2___x', port: 3, text: 'b:2___x:3' },
    });
  });

  it('is greedy like vLLM: an extra ":digits" after the decode port moves the decode port', () => {
    expect(parseRequestId('___prefill_addr_a:1___decode_addr_b:2_c:3')).toEqual({
      prefill: { host: 'a', port: 1, text: 'a:1' },
      decode: { host: 'b:2_c', port: 3, text: 'b:2_c:3' },
    });
  });

  it('takes the leftmost marker, as re.search does', () => {
    expect(parseRequestId('___decode_addr_a:1 ___decode_addr_b:2').decode?.host).toBe('a:1 ___decode_addr_b');
    expect(parseRequestId('___prefill_addr___decode_addr_x:1___decode_addr_d:2_f').decode).toEqual({
      host: 'x:1___decode_addr_d',
      port: 2,
      text: 'x:1___decode_addr_d:2',
    });
  });

  it("stops at '\\n' like Python's '.', but not at '\\r' or U+2028", () => {
    expect(parseRequestId('___decode_addr_a\n:1')).toEqual({});
    expect(parseRequestId('___decode_addr_a\r\u2028:1').decode?.host).toBe('a\r\u2028');
    expect(parseRequestId('___decode_addr_a:1\n:2').decode?.port).toBe(1);
  });

  it("reads ports like Python's int(): leading zeros and Unicode digits", () => {
    expect(parseRequestId('___decode_addr_d:0022001').decode).toEqual({
      host: 'd',
      port: 22001,
      text: 'd:22001',
    });
    expect(parseRequestId('___decode_addr_d:\u0662\u0662\u0660\u0660\u0661').decode?.port).toBe(22001);
    expect(parseRequestId('___decode_addr_d:\u{1D7D0}\u{1D7E4}').decode?.text).toBe('d:22');
    expect(parseRequestId(`___decode_addr_d:${'1'.repeat(4301)}`)).toEqual({});
  });
});

/** Python's own answer, for every id at once (one process). */
function pythonParse(ids: readonly string[]): unknown {
  const script = `
import json, re, sys
def parse(pattern, s):
    m = re.search(pattern, s)
    if not m: return None
    try: port = int(m.group(2))
    except ValueError: return None
    return [m.group(1), str(port)]
ids = json.load(sys.stdin)
out = [[parse(r"___prefill_addr_(.*):(\\d+)___", s), parse(r"___decode_addr_(.*):(\\d+)", s)] for s in ids]
sys.stdout.write(json.dumps(out))
`;
  let stdout: string;
  try {
    stdout = execFileSync('python3', ['-c', script], { input: JSON.stringify(ids), encoding: 'utf8' });
  } catch (error) {
    throw new Error('this test compares with python3, which must be on PATH; running it failed', {
      cause: error,
    });
  }
  return JSON.parse(stdout);
}

describe('parseRequestId against python3', () => {
  it('agrees with re.search + int() on thousands of generated ids', () => {
    const odd = fc.constantFrom('\n', '\r', '\u2028', '\uD800', 'é', 'cmpl-', '-0-1a2b3c4d', '_', '__', ' ');
    const digits = fc.oneof(
      fc.stringMatching(/^[0-9]{1,6}$/),
      fc.constantFrom('\u0663\u0660', '\u{1D7D9}', '007', '1\u0661'),
    );
    const chunk = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('___prefill_addr_', '___decode_addr_') },
      { weight: 4, arbitrary: digits.map((d) => `:${d}`) },
      { weight: 3, arbitrary: fc.constantFrom('___', '_', ':') },
      { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9.]{1,5}$/) },
      { weight: 2, arbitrary: odd },
      { weight: 1, arbitrary: fc.string({ maxLength: 3, unit: 'grapheme' }) },
    );
    const ids = fc.sample(
      fc.array(chunk, { maxLength: 12 }).map((parts) => parts.join('')),
      { numRuns: 3_000, seed: 42 },
    );
    ids.push(createRequestId('p:1', 'd:2', RANDOM), '___prefill_addr_a:1___decode_addr_b:2___x:3');
    const expected = pythonParse(ids);
    const actual = ids.map((id) => {
      const r = parseRequestId(id);
      return [r.prefill, r.decode].map((a) =>
        a === undefined ? null : [a.host, a.text.slice(a.host.length + 1)],
      );
    });
    expect(actual).toEqual(expected);
    // The generator must exercise matches, not just misses.
    const matched = actual.flat().filter((side) => side !== null).length;
    expect(matched).toBeGreaterThan(500);
  });
});
