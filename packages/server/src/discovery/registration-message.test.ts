import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { parseCidr } from './cidr.js';
import { MAX_REGISTRATION_BYTES, parseRegistration } from './registration-message.js';

const ID = Buffer.from('10.0.0.2:14580');
const GOOD = { type: 'D', http_address: '10.0.0.2:8200', zmq_address: '10.0.0.2:14580' };

function frames(message: unknown): Uint8Array[] {
  return [ID, encode(message)];
}

function reason(result: ReturnType<typeof parseRegistration>): string {
  return result.ok ? 'ok' : result.error.reason;
}

describe('parseRegistration', () => {
  it("reads vLLM's ping: routing id, then the msgpack map", () => {
    const result = parseRegistration(frames(GOOD), []);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.value.role).toBe('decode');
    expect(result.value.spec).toBe('http://10.0.0.2:8200:zmq://10.0.0.2:14580');
    expect(result.value.address).toMatchObject({
      url: 'http://10.0.0.2:8200',
      hostHeader: '10.0.0.2:8200',
      zmq: { host: '10.0.0.2', port: 14_580, text: '10.0.0.2:14580' },
      zmqFromHttp: false,
    });
    expect(parseRegistration(frames({ ...GOOD, type: 'P' }), []).ok && 'prefill').toBe('prefill');
    // A REQ-style empty delimiter between the id and the map is tolerated.
    expect(reason(parseRegistration([ID, Buffer.alloc(0), encode(GOOD)], []))).toBe('ok');
    // A scheme on the HTTP address too.
    expect(reason(parseRegistration(frames({ ...GOOD, http_address: 'http://10.0.0.2:8200' }), []))).toBe(
      'ok',
    );
  });

  it('refuses everything else with a reason, never throwing', () => {
    const cases: [unknown[] | Uint8Array[], string][] = [
      [[encode(GOOD)], 'frames'],
      [[ID, Buffer.from('not msgpack \xc1')], 'not_msgpack'],
      [[ID, Buffer.from([0x81])], 'not_msgpack'],
      [[ID, Buffer.concat([encode(GOOD), Buffer.from([1])])], 'not_msgpack'],
      [[ID, Buffer.alloc(MAX_REGISTRATION_BYTES + 1)], 'not_msgpack'],
      [frames('hello'), 'not_a_map'],
      [frames([1, 2]), 'not_a_map'],
      [frames(null), 'not_a_map'],
      [frames(new Uint8Array([1, 2])), 'not_a_map'],
      [frames({ ...GOOD, type: 'X' }), 'unknown_type'],
      [frames({ ...GOOD, type: 'p' }), 'unknown_type'],
      [frames({ http_address: GOOD.http_address, zmq_address: GOOD.zmq_address }), 'unknown_type'],
      [frames({ ...GOOD, zmq_address: 7 }), 'bad_zmq_address'],
      [frames({ ...GOOD, zmq_address: '10.0.0.2' }), 'bad_zmq_address'],
      [frames({ ...GOOD, zmq_address: '[::1]:5' }), 'bad_zmq_address'],
      [frames({ ...GOOD, http_address: undefined }), 'bad_http_address'],
      [frames({ ...GOOD, http_address: '10.0.0.2' }), 'bad_http_address'],
      [frames({ ...GOOD, http_address: '10.0.0.2:0' }), 'bad_http_address'],
    ];
    for (const [input, expected] of cases) {
      expect(reason(parseRegistration(input as Uint8Array[], [])), JSON.stringify(input)).toBe(expected);
    }
  });

  it('with an allow-list, admits only announced IPv4 hosts inside it (both addresses)', () => {
    const allow = [parseCidr('10.0.0.0/24'), parseCidr('192.168.0.9')].map((r) => {
      if (!r.ok) throw new Error(r.error);
      return r.value;
    });
    expect(reason(parseRegistration(frames(GOOD), allow))).toBe('ok');
    expect(reason(parseRegistration(frames({ ...GOOD, zmq_address: '10.0.1.2:14580' }), allow))).toBe(
      'not_allowed',
    );
    expect(reason(parseRegistration(frames({ ...GOOD, http_address: '192.168.0.9:80' }), allow))).toBe('ok');
    expect(reason(parseRegistration(frames({ ...GOOD, http_address: 'worker.local:80' }), allow))).toBe(
      'not_allowed',
    );
    const refused = parseRegistration(frames({ ...GOOD, http_address: '172.16.0.1:8200' }), allow);
    expect(refused.ok ? '' : refused.error.message).toBe(
      '172.16.0.1 (decode, http 172.16.0.1:8200, zmq 10.0.0.2:14580) is outside --discovery-allow',
    );
  });
});
