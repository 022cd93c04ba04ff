import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { compareRequest } from './compare-request.js';
import {
  editHeaders,
  exchangesOf,
  failedChecks,
  findCase,
  headerOf,
  NIXL_DIR,
  nixlCases,
  REFERENCE_DIR,
  randomId,
  referenceCases,
  requestFor,
  setHeader,
} from './test-support.js';
import type { GoldenExchange, RawRequest } from './types.js';

const all = [...exchangesOf(referenceCases), ...exchangesOf(nixlCases)];
const label = (g: GoldenExchange): string =>
  `${g.kind} ${g.case} ${g.role}${g.index === undefined ? '' : ` #${g.index}`}`;
const seedP2p = findCase(referenceCases, '01-seed-chat').rounds[0]!;
const seedNixl = findCase(nixlCases, '01-seed-chat').rounds[0]!;

describe('every golden request passes against itself', () => {
  test.each(all.map((g) => [label(g), g] as const))('%s', (_name, golden) => {
    const req = requestFor(golden);
    const v = compareRequest(golden, req, { workerHostHeader: headerOf(req, 'host') ?? '' });
    expect(v.diff).toBeUndefined();
    expect(v).toMatchObject({ ok: true, case: golden.case, role: golden.role });
    expect(v.index).toBe(golden.index);
    expect(v.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['request-line', 'body', 'header-names']),
    );
  });
});

describe('changing a single body byte fails', () => {
  // Every byte position of every golden body, prefill and decode, of both fixture sets. No position is
  // exempt: the `{uuid}` a body may carry (NIXL) is filled from the request's own X-Request-Id, so
  // changing it in the body alone breaks the match too.
  test.each(all.map((g) => [label(g), g] as const))('%s', (_name, golden) => {
    const req = requestFor(golden);
    const body = new Uint8Array(req.body);
    const changed = { ...req, body };
    for (let at = 0; at < body.length; at++) {
      const b = body[at]!;
      // XOR 0x01: always another byte, and the nearest one (a digit for a digit, a letter for a letter).
      body[at] = b ^ 0x01;
      const v = compareRequest(golden, changed);
      body[at] = b;
      if (v.ok || failedChecks(v).join() !== 'body') {
        throw new Error(`byte ${at} -> ${b ^ 0x01}: ${JSON.stringify(v.checks.filter((c) => !c.ok))}`);
      }
    }
    // The unchanged body still passes, so every failure above came from the one changed byte.
    expect(compareRequest(golden, changed).ok).toBe(true);
    expect(body.length).toBeGreaterThan(0);
  });

  test('those are all the golden requests of both fixture sets', () => {
    const captures = [REFERENCE_DIR, NIXL_DIR].flatMap((root) =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((f) => /(?:^|[/\\])(?:prefill|decode)(?:-\d+)?\.normalized\.http$/.test(f))
        .map((f) => path.join(root, f)),
    );
    expect(captures.length).toBeGreaterThan(100);
    expect(all.map((g) => path.resolve(g.file)).sort()).toEqual(captures.map((f) => path.resolve(f)).sort());
  });

  test('a missing or an added byte fails too', () => {
    const req = requestFor(seedP2p.prefill);
    const shorter = { ...req, body: req.body.subarray(0, req.body.length - 1) };
    const longer = { ...req, body: new Uint8Array([...req.body, 0x20]) };
    expect(failedChecks(compareRequest(seedP2p.prefill, shorter))).toEqual(['body']);
    expect(failedChecks(compareRequest(seedP2p.prefill, longer))).toEqual(['body']);
  });

  test('a NIXL decode body must carry the same id as the header', () => {
    const req = requestFor(seedNixl.decode);
    const other = requestFor(seedNixl.decode);
    const mixed = { ...req, body: other.body };
    const v = compareRequest(seedNixl.decode, mixed);
    expect(failedChecks(v)).toEqual(['body']);
    expect(v.diff).toContain('remote_request_id');
  });
});

describe('headers', () => {
  const golden = seedP2p.prefill;
  const base = requestFor(golden);

  test.each(['Authorization', 'Accept', 'Accept-Encoding', 'Content-Length', 'Content-Type'])(
    'a changed %s value fails',
    (name) => {
      const v = compareRequest(golden, setHeader(base, name, `${headerOf(base, name)}x`));
      expect(failedChecks(v)).toEqual([`header:${name.toLowerCase()}`]);
      expect(v.diff).toContain(`header:${name.toLowerCase()}: got`);
    },
  );

  test('a wrong Authorization names the environment of the capture', () => {
    const env = findCase(referenceCases, '07-env-key-set-chat').rounds[0]!.prefill;
    const req = requestFor(env);
    expect(headerOf(req, 'authorization')).toBe('Bearer sk-proxy-test-key');
    const v = compareRequest(env, setHeader(req, 'Authorization', 'Bearer None'));
    expect(v.checks.find((c) => c.name === 'header:authorization')?.detail).toBe(
      'got "Bearer None", want "Bearer sk-proxy-test-key" (captured with OPENAI_API_KEY="sk-proxy-test-key")',
    );
    // An empty key: the reference sends "Bearer " (its trailing blank is not part of the value).
    const empty = findCase(referenceCases, '07-env-key-empty-chat').rounds[0]!.prefill;
    const emptyReq = requestFor(empty);
    expect(compareRequest(empty, setHeader(emptyReq, 'Authorization', 'Bearer ')).ok).toBe(true);
    expect(compareRequest(empty, setHeader(emptyReq, 'Authorization', 'Bearer None')).ok).toBe(false);
  });

  test.each([
    ['X-Custom', '1'],
    ['Transfer-Encoding', 'chunked'],
    ['X-Forwarded-For', '127.0.0.1'],
    ['Expect', '100-continue'],
  ])('an added %s header fails', (name, value) => {
    const v = compareRequest(
      golden,
      editHeaders(base, (p) => [...p, [name, value]]),
    );
    expect(failedChecks(v)).toContain('header-names');
    expect(v.checks.find((c) => c.name === 'header-names')?.detail).toContain(name.toLowerCase());
  });

  test('a chunked request body fails its own check', () => {
    const chunked = editHeaders(base, (p) => [
      ...p.filter(([k]) => k !== 'Content-Length'),
      ['Transfer-Encoding', 'chunked'],
    ]);
    expect(failedChecks(compareRequest(golden, chunked))).toEqual([
      'header-names',
      'no-chunked-body',
      'header:content-length',
    ]);
  });

  test('Connection, Keep-Alive, traceparent and tracestate may be added', () => {
    const extra = editHeaders(base, (p) => [
      ...p,
      ['Connection', 'keep-alive'],
      ['Keep-Alive', 'timeout=5'],
      ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ['tracestate', 'vendor=1'],
    ]);
    expect(compareRequest(golden, extra).ok).toBe(true);
  });

  test('Connection is optional either way (the NIXL capture has it)', () => {
    const nixl = requestFor(seedNixl.prefill);
    expect(headerOf(nixl, 'connection')).toBe('keep-alive');
    const without = editHeaders(nixl, (p) => p.filter(([k]) => k.toLowerCase() !== 'connection'));
    expect(compareRequest(seedNixl.prefill, without).ok).toBe(true);
    expect(compareRequest(seedNixl.prefill, setHeader(nixl, 'Connection', 'close')).ok).toBe(true);
  });

  test('a missing header fails', () => {
    const v = compareRequest(
      golden,
      editHeaders(base, (p) => p.filter(([k]) => k !== 'Accept')),
    );
    expect(failedChecks(v)).toEqual(['header-names', 'header:accept']);
    expect(v.checks.find((c) => c.name === 'header-names')?.detail).toBe('missing accept');
  });

  test('a duplicate header fails, whatever the case of its second name', () => {
    for (const dup of ['Accept', 'accept', 'ACCEPT']) {
      const v = compareRequest(
        golden,
        editHeaders(base, (p) => [...p, [dup, '*/*']]),
      );
      expect(failedChecks(v)).toEqual(['no-duplicate-headers']);
    }
  });

  test('header names are case-insensitive and their order is free', () => {
    const lower = editHeaders(base, (p) => p.map(([k, v]) => [k.toLowerCase(), v]));
    const upper = editHeaders(base, (p) =>
      p.map(([k, v]): [string, string] => [k.toUpperCase(), v]).reverse(),
    );
    expect(compareRequest(golden, lower).ok).toBe(true);
    expect(compareRequest(golden, upper).ok).toBe(true);
  });

  test('Host must name the worker called when it is known, else any host:port', () => {
    const req = setHeader(base, 'Host', '127.0.0.1:41234');
    expect(compareRequest(golden, req, { workerHostHeader: '127.0.0.1:41234' }).ok).toBe(true);
    expect(compareRequest(golden, req).ok).toBe(true);
    const v = compareRequest(golden, req, { workerHostHeader: '127.0.0.1:41235' });
    expect(failedChecks(v)).toEqual(['header:host']);
    expect(v.diff).toContain('header:host: got "127.0.0.1:41234", want "127.0.0.1:41235"');
    expect(compareRequest(golden, setHeader(base, 'Host', 'localhost')).ok).toBe(false);
    expect(compareRequest(golden, setHeader(base, 'Host', '[::1]:8000')).ok).toBe(true);
  });

  test('User-Agent may be anything but empty', () => {
    expect(compareRequest(golden, setHeader(base, 'User-Agent', 'pd-router/0.1.0')).ok).toBe(true);
    expect(failedChecks(compareRequest(golden, setHeader(base, 'User-Agent', '')))).toEqual([
      'header:user-agent',
    ]);
  });

  test('the request line must match, without the query string', () => {
    expect(failedChecks(compareRequest(golden, { ...base, path: `${base.path}?x=1` }))).toEqual([
      'request-line',
    ]);
    expect(failedChecks(compareRequest(golden, { ...base, path: '/v1/completions' }))).toEqual([
      'request-line',
    ]);
    expect(failedChecks(compareRequest(golden, { ...base, method: 'PUT' }))).toEqual(['request-line']);
  });
});

describe('X-Request-Id', () => {
  const golden = seedP2p.prefill;
  const hex = randomId('p2p-nccl');
  const idWith = (p: string, d: string, tail = hex): string =>
    `___prefill_addr_${p}___decode_addr_${d}_${tail}`;
  const req = (id: string): RawRequest => setHeader(requestFor(golden), 'X-Request-Id', id);

  test('without the configured addresses, any host:port pair is accepted by shape', () => {
    expect(compareRequest(golden, req(idWith('127.0.0.1:21001', '127.0.0.1:22001'))).ok).toBe(true);
    expect(compareRequest(golden, req(idWith('127.0.0.1:40001', '10.0.0.2:40002'))).ok).toBe(true);
    expect(compareRequest(golden, req(idWith('127.0.0.1', '127.0.0.1:40002'))).ok).toBe(false);
    expect(compareRequest(golden, req(idWith('a___b:1', '127.0.0.1:40002'))).ok).toBe(false);
  });

  test('with the configured addresses, exactly those', () => {
    const expectedZmq = { prefill: '127.0.0.1:40001', decode: '127.0.0.1:40002' };
    expect(
      compareRequest(golden, req(idWith('127.0.0.1:40001', '127.0.0.1:40002')), { expectedZmq }).ok,
    ).toBe(true);
    const swapped = compareRequest(golden, req(idWith('127.0.0.1:40002', '127.0.0.1:40001')), {
      expectedZmq,
    });
    expect(failedChecks(swapped)).toEqual(['header:x-request-id']);
    expect(swapped.diff).toContain(
      'want "___prefill_addr_127.0.0.1:40001___decode_addr_127.0.0.1:40002_{uuid}"',
    );
  });

  test.each([
    ['upper-case hex', hex.toUpperCase()],
    ['31 digits', hex.slice(1)],
    ['33 digits', `${hex}0`],
    ['a uuid4', '059847b8-40c4-4e00-b190-aa4809d6033b'],
  ])('a {uuid} of %s fails', (_name, tail) => {
    expect(
      failedChecks(compareRequest(golden, req(idWith('127.0.0.1:21001', '127.0.0.1:22001', tail)))),
    ).toEqual(['header:x-request-id']);
  });

  test('NIXL: the whole id is a lower-case uuid4', () => {
    const g = seedNixl.prefill;
    const ok = requestFor(g, '059847b8-40c4-4e00-b190-aa4809d6033b');
    expect(compareRequest(g, ok).ok).toBe(true);
    for (const bad of [
      '059847B8-40C4-4E00-B190-AA4809D6033B',
      '059847b8-40c4-1e00-b190-aa4809d6033b', // version 1
      '059847b840c44e00b190aa4809d6033b',
      '',
    ]) {
      expect(failedChecks(compareRequest(g, setHeader(ok, 'X-Request-Id', bad)))).toEqual([
        'header:x-request-id',
      ]);
    }
  });

  test('NIXL: a bad id header is reported once, not again as a body difference', () => {
    const g = seedNixl.decode;
    const req = setHeader(requestFor(g), 'X-Request-Id', 'not-a-uuid');
    expect(failedChecks(compareRequest(g, req))).toEqual(['header:x-request-id']);
  });
});
