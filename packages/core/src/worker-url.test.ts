import { describe, expect, it } from 'vitest';
import { expectCoreError } from '../test/support/expect-core-error.js';
import { CoreError } from './errors.js';
import { parseWorkerUrl, type WorkerAddress } from './worker-url.js';

function zmq(host: string, port: number) {
  return { host, port, text: `${host}:${port}` };
}

describe('parseWorkerUrl: accepted specs', () => {
  it.each<[string, WorkerAddress]>([
    [
      'http://127.0.0.1:20003:zmq://127.0.0.1:21001',
      {
        url: 'http://127.0.0.1:20003',
        hostHeader: '127.0.0.1:20003',
        zmq: zmq('127.0.0.1', 21001),
        zmqFromHttp: false,
      },
    ],
    [
      'http://127.0.0.1:20003',
      {
        url: 'http://127.0.0.1:20003',
        hostHeader: '127.0.0.1:20003',
        zmq: zmq('127.0.0.1', 20003),
        zmqFromHttp: true,
      },
    ],
    [
      'http://127.0.0.1:20003/',
      {
        url: 'http://127.0.0.1:20003',
        hostHeader: '127.0.0.1:20003',
        zmq: zmq('127.0.0.1', 20003),
        zmqFromHttp: true,
      },
    ],
    [
      'http://10.0.0.5:8000/:zmq://10.0.0.5:14579/',
      {
        url: 'http://10.0.0.5:8000',
        hostHeader: '10.0.0.5:8000',
        zmq: zmq('10.0.0.5', 14579),
        zmqFromHttp: false,
      },
    ],
    [
      'https://prefill-0.vllm.svc:8443:zmq://prefill-0.vllm.svc:14579',
      {
        url: 'https://prefill-0.vllm.svc:8443',
        hostHeader: 'prefill-0.vllm.svc:8443',
        zmq: zmq('prefill-0.vllm.svc', 14579),
        zmqFromHttp: false,
      },
    ],
    [
      'HTTP://Worker-A:8000:ZMQ://Worker-A:14579',
      {
        url: 'http://Worker-A:8000',
        hostHeader: 'Worker-A:8000',
        zmq: zmq('Worker-A', 14579),
        zmqFromHttp: false,
      },
    ],
    [
      'http://decode',
      { url: 'http://decode:80', hostHeader: 'decode:80', zmq: zmq('decode', 80), zmqFromHttp: true },
    ],
    [
      'https://decode/',
      { url: 'https://decode:443', hostHeader: 'decode:443', zmq: zmq('decode', 443), zmqFromHttp: true },
    ],
    [
      'http://[::1]:8000:zmq://127.0.0.1:21001',
      {
        url: 'http://[::1]:8000',
        hostHeader: '[::1]:8000',
        zmq: zmq('127.0.0.1', 21001),
        zmqFromHttp: false,
      },
    ],
    [
      'http://[0:0:0:0:0:0:0:1]:zmq://localhost:21001',
      { url: 'http://[::1]:80', hostHeader: '[::1]:80', zmq: zmq('localhost', 21001), zmqFromHttp: false },
    ],
    [
      'https://[2001:DB8::A]:9443/:zmq://10.1.1.1:1',
      {
        url: 'https://[2001:db8::a]:9443',
        hostHeader: '[2001:db8::a]:9443',
        zmq: zmq('10.1.1.1', 1),
        zmqFromHttp: false,
      },
    ],
  ])('%s', (spec, expected) => {
    expect(parseWorkerUrl(spec)).toEqual({ ok: true, value: expected });
  });
});

describe('parseWorkerUrl: rejected specs', () => {
  it.each([
    ['127.0.0.1:8000', 'missing http:// or https://'],
    ['', 'missing http:// or https://'],
    ['ftp://h:1', 'unsupported scheme "ftp"'],
    ['zmq://h:1', 'unsupported scheme "zmq"'],
    ['http://', 'the host is empty'],
    ['http://:8000', 'the host is empty'],
    ['http://h:', 'the port is empty'],
    ['http://h:0', 'out of range'],
    ['http://h:65536', 'out of range'],
    ['http://h:080', 'leading zero'],
    ['http://h:8000/v1', 'no path'],
    ['http://h:8000//', 'no path'],
    ['http://h:8000?x=1', 'no path, query'],
    ['http://h:8000#f', 'fragment'],
    ['http://user:pw@h:8000', 'user info'],
    ['http://h\\x:8000', 'no path'],
    ['http://h:1:2', "more than one ':'"],
    ['http://::1:8000', "more than one ':'"],
    ['http://[::1:8000', "unclosed '['"],
    ['http://[::1]8000', 'unexpected "8000"'],
    ['http://[::g]:8000:zmq://h:1', 'is not an IPv6 address'],
    ['http://[fe80::1%25eth0]:8000:zmq://h:1', 'is not an IPv6 address'],
    ['http://[1.2.3.4]:8000', 'is not an IPv6 address'],
    ['http://[::1]:8000', 'needs an explicit'],
    ['http://h h:8000', 'may only contain'],
    ['http://300.1.1.1:8000', 'dotted-quad'],
    ['http://h:8000:zmq://', 'the zmq part is invalid'],
    ['http://h:8000:zmq://[::1]:5555', 'IPv6'],
    ['http://h:8000:zmq://h', 'missing ":port"'],
    ['http://h:8000:zmq://h:1:zmq://h:2', 'more than one ":zmq://"'],
    ['http://a___b:8000', "'___'"],
    ['http://__x:8000', 'taken from the HTTP host is invalid'],
  ])('%j (%s)', (spec, why) => {
    expectCoreError(
      parseWorkerUrl(spec),
      'PD_ERR_WORKER_URL_INVALID',
      `invalid worker URL "${spec}"`,
      why,
      'expected http(s)://HOST:PORT',
    );
  });

  it('keeps the ZMQ error as the cause when the zmq part is the culprit', () => {
    const r = parseWorkerUrl('http://h:8000:zmq://x___y:1');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.cause).toBeInstanceOf(CoreError);
    expect((r.error.cause as CoreError).code).toBe('PD_ERR_ZMQ_ADDRESS_INVALID');
  });

  it('an explicit zmq part may not be IPv6 even when the HTTP host is', () => {
    const r = parseWorkerUrl('http://[::1]:8000:zmq://[::1]:21001');
    expect(r.ok).toBe(false);
  });
});

describe('parseWorkerUrl with { zmqUnused: true } (NIXL workers)', () => {
  it('accepts an IPv6 HTTP host without a zmq part; zmq is the HTTP address, marked as guessed', () => {
    const r = parseWorkerUrl('http://[::1]:8000/', { zmqUnused: true });
    expect(r).toEqual({
      ok: true,
      value: {
        url: 'http://[::1]:8000',
        hostHeader: '[::1]:8000',
        zmq: { host: '[::1]', port: 8000, text: '[::1]:8000' },
        zmqFromHttp: true,
      },
    });
  });

  it('gives the same result as without the option for every other spec', () => {
    for (const spec of [
      'http://h:8000',
      'https://10.0.0.1',
      'http://h:8000:zmq://k:1',
      'http://[::1]:80:zmq://k:2',
    ]) {
      expect(parseWorkerUrl(spec, { zmqUnused: true })).toEqual(parseWorkerUrl(spec));
    }
  });

  it('still rejects bad specs, including an explicit IPv6 zmq part', () => {
    for (const spec of [
      'http://[::1]:8000:zmq://[::1]:21001',
      'ftp://h:1',
      'http://[::g]:8000',
      'http://h:0',
    ]) {
      expect(parseWorkerUrl(spec, { zmqUnused: true }).ok, spec).toBe(false);
    }
  });
});
