import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PdError } from '@pd-router/core';
import { afterAll, describe, expect, test } from 'vitest';
import { createConformanceChecker } from './checker.js';
import {
  captureContext,
  editHeaders,
  exchangesOf,
  FIXTURES_ROOT,
  failedChecks,
  findCase,
  MOONCAKE_DIR,
  NIXL_DIR,
  REFERENCE_DIR,
  requestFor,
  setHeader,
} from './test-support.js';
import type { RawRequest } from './types.js';

const reference = createConformanceChecker(REFERENCE_DIR);
const nixl = createConformanceChecker(NIXL_DIR);
const mooncake = createConformanceChecker(MOONCAKE_DIR);

function withByte(req: RawRequest, at: number, value: number): RawRequest {
  const body = new Uint8Array(req.body);
  body[at] = value;
  return { ...req, body };
}

describe.each([
  ['reference-proxy', reference],
  ['nixl-toy-proxy', nixl],
  ['mooncake-proxy', mooncake],
] as const)('%s: the checker finds the golden request by its body', (_set, checker) => {
  const bodies = new Set(
    exchangesOf(checker.cases).map((g) => `${g.role} ${Buffer.from(g.body).toString('latin1')}`),
  );

  test.each(exchangesOf(checker.cases).map((g) => [`${g.case} ${g.role} ${g.index ?? ''}`, g] as const))(
    '%s passes',
    (_name, golden) => {
      const v = checker.check(golden.role, requestFor(golden), { case: golden.case });
      expect(v.diff).toBeUndefined();
      expect(v).toMatchObject({ ok: true, case: golden.case, role: golden.role });
      // Without the case, an identical request of another case may be named, but it passes.
      expect(checker.check(golden.role, requestFor(golden)).ok).toBe(true);
    },
  );

  test('a single changed byte fails unless it turns the body into another golden body', () => {
    let failed = 0;
    for (const golden of exchangesOf(checker.cases)) {
      const req = requestFor(golden);
      for (const at of [0, req.body.length >> 1, req.body.length - 1]) {
        const changed = withByte(req, at, req.body[at]! ^ 0x02);
        const v = checker.check(golden.role, changed, captureContext(checker.cases, golden));
        if (bodies.has(`${golden.role} ${Buffer.from(changed.body).toString('latin1')}`)) continue;
        expect(v.ok, `${golden.case} byte ${at}`).toBe(false);
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(0);
  });
});

describe('no exact match: the closest golden request, with a diff', () => {
  const golden = findCase(reference.cases, '05-max-tokens-first-completions').rounds[0]!.prefill;

  test('a changed byte is compared with the case it came from', () => {
    const req = requestFor(golden);
    const at = req.body.length - 5;
    const v = reference.check('prefill', withByte(req, at, 0x7a));
    expect(v.ok).toBe(false);
    expect(v.case).toBe(golden.case);
    expect(failedChecks(v)).toEqual(['golden-match', 'body']);
    expect(v.diff).toContain(
      'no golden prefill body equals the received one; closest is 05-max-tokens-first-completions',
    );
    expect(v.diff).toContain(`bodies differ at byte ${at}`);
  });

  test('the diff is readable', () => {
    const seed = findCase(reference.cases, '01-seed-chat').rounds[0]!.prefill;
    const req = requestFor(seed);
    const text = Buffer.from(req.body).toString('latin1').replace('"max_tokens": 1', '"max_tokens": 2');
    const v = reference.check(
      'prefill',
      setHeader({ ...req, body: Buffer.from(text, 'latin1') }, 'Host', '127.0.0.1:5'),
      { workerHostHeader: '127.0.0.1:41000' },
    );
    expect(v.diff?.replace(FIXTURES_ROOT, '<fixtures>/')).toMatchInlineSnapshot(`
      "no golden prefill body equals the received one; closest is 01-seed-chat
      prefill request differs from golden 01-seed-chat (<fixtures>/reference-proxy/01-seed-chat/prefill.normalized.http):
        header:host: got "127.0.0.1:5", want "127.0.0.1:41000"
        body: bodies differ at byte 142 (expected 164 bytes, actual 164 bytes): expected 0x31 '1', actual 0x32 '2'
            expected: …he capital of France?"}], "max_tokens": 1, "temperature": 0.7}
            actual:   …he capital of France?"}], "max_tokens": 2, "temperature": 0.7}
                                                               ^"
    `);
  });
});

describe('context narrows the candidates', () => {
  test('the API key the router runs with', () => {
    const set = findCase(reference.cases, '07-env-key-set-chat').rounds[0]!.prefill;
    const req = requestFor(set);
    expect(reference.check('prefill', req)).toMatchObject({ ok: true, case: '07-env-key-set-chat' });
    expect(reference.check('prefill', req, { apiKey: 'sk-proxy-test-key' }).ok).toBe(true);
    const v = reference.check('prefill', req, { apiKey: null });
    expect(v.ok).toBe(false);
    expect(failedChecks(v)).toEqual(['header:authorization']);
  });

  test('round robin: the request number and the configured ZMQ addresses', () => {
    const rr = findCase(reference.cases, '10-round-robin-2p2d');
    expect(rr.topology.zmq).toEqual({
      prefill: ['127.0.0.1:21001', '127.0.0.1:21003'],
      decode: ['127.0.0.1:22002', '127.0.0.1:22004'],
    });
    const second = rr.rounds[1]!.prefill;
    const req = requestFor(second);
    const expectedZmq = { prefill: '127.0.0.1:21003', decode: '127.0.0.1:22004' };
    expect(reference.check('prefill', req, { case: rr.name, expectedZmq })).toMatchObject({
      ok: true,
      index: 1,
    });
    expect(reference.check('prefill', req, { case: rr.name, index: 2, expectedZmq })).toMatchObject({
      ok: true,
      index: 2,
    });
    const swapped = { prefill: '127.0.0.1:21001', decode: '127.0.0.1:22002' };
    const v = reference.check('prefill', req, { case: rr.name, index: 2, expectedZmq: swapped });
    expect(failedChecks(v)).toEqual(['header:x-request-id']);
  });

  test('a context nothing matches', () => {
    const golden = findCase(reference.cases, '01-seed-chat').rounds[0]!.decode;
    const v = reference.check('decode', requestFor(golden), { case: 'no-such-case' });
    expect(v).toMatchObject({ ok: false, case: undefined, role: 'decode' });
    expect(v.diff).toBe('the fixtures hold no decode request matching the given context');
  });
});

describe('NIXL bodies carry the request id', () => {
  const round = findCase(nixl.cases, '10-round-robin-2p2d').rounds[1]!;

  test('the decode body is matched through its normalized form', () => {
    const v = nixl.check('decode', requestFor(round.decode), { case: round.decode.case });
    expect(v).toMatchObject({ ok: true, index: 2 });
  });

  test("the prefill's kv_transfer_params must reach the decode body", () => {
    const req = requestFor(round.decode);
    const text = Buffer.from(req.body).toString('latin1').replace('"engine-P2"', '"engine-P1"');
    const changed = { ...req, body: Buffer.from(text, 'latin1') };
    // Closest by body is now round 1 (engine-P1), which still differs in remote_port.
    expect(nixl.check('decode', changed, { case: round.decode.case })).toMatchObject({ ok: false, index: 1 });
    const v = nixl.check('decode', changed, { case: round.decode.case, index: 2 });
    expect(v.ok).toBe(false);
    expect(v.diff).toContain(`expected 0x32 '2', actual 0x31 '1'`);
  });

  test('a decode body with another id than the header fails', () => {
    const req = requestFor(round.decode);
    const other = requestFor(round.decode);
    const v = nixl.check(
      'decode',
      editHeaders({ ...req, body: other.body }, (p) => p),
    );
    expect(v.ok).toBe(false);
    expect(failedChecks(v)).toContain('body');
  });
});

describe('loading', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'pd-conformance-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  test('a directory of fixture sets loads both, cases named set/case', () => {
    const both = createConformanceChecker(FIXTURES_ROOT);
    const names = both.cases.map((c) => c.name);
    expect(names).toContain('reference-proxy/01-seed-chat');
    expect(names).toContain('nixl-toy-proxy/01-seed-chat');
    const golden = findCase(nixl.cases, '06-stream-chat').rounds[0]!.decode;
    expect(both.check('decode', requestFor(golden))).toMatchObject({
      ok: true,
      case: 'nixl-toy-proxy/06-stream-chat',
    });
  });

  test('missing or empty directories throw a coded error', () => {
    expect(() => createConformanceChecker(path.join(empty, 'nope'))).toThrow(
      expect.objectContaining({ code: 'PD_ERR_MOCK_FIXTURES_INVALID' }),
    );
    expect(() => createConformanceChecker(empty)).toThrow(
      expect.objectContaining({ code: 'PD_ERR_MOCK_FIXTURES_INVALID' }),
    );
    try {
      createConformanceChecker(empty);
    } catch (e) {
      expect(e).toBeInstanceOf(PdError);
    }
  });
});
