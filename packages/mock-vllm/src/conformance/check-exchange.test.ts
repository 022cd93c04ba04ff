import { describe, expect, test } from 'vitest';
import { checkExchange } from './check-exchange.js';
import { findCase, nixlCases, randomId, referenceCases, requestFor, setHeader } from './test-support.js';

const inOrder = { prefillCompletedAt: 10, decodeReceivedAt: 11 };

describe('checkExchange', () => {
  test.each([
    ['reference-proxy', findCase(referenceCases, '06-stream-completions')],
    ['nixl-toy-proxy', findCase(nixlCases, '06-stream-chat')],
  ])('%s: a faithful exchange passes', (_set, c) => {
    const round = c.rounds[0]!;
    const id = randomId(c.kind);
    const v = checkExchange(c, requestFor(round.prefill, id), requestFor(round.decode, id), inOrder);
    expect(v.diff).toBeUndefined();
    expect(v.ok).toBe(true);
    expect(v.checks).toEqual([
      { name: 'same-request-id', ok: true },
      { name: 'prefill-before-decode', ok: true },
    ]);
    expect(v.verdicts.map((x) => x.role)).toEqual(['prefill', 'decode']);
  });

  const c = findCase(referenceCases, '09-request-id-and-order-chat');
  const round = c.rounds[0]!;

  test('different request ids on the two legs fail', () => {
    const v = checkExchange(c, requestFor(round.prefill), requestFor(round.decode), inOrder);
    expect(v.ok).toBe(false);
    expect(v.verdicts.every((x) => x.ok)).toBe(true);
    expect(v.checks.find((x) => x.name === 'same-request-id')?.ok).toBe(false);
    expect(v.diff).toMatch(/^same-request-id: prefill "___prefill_addr_/);
  });

  test('a decode sent before the prefill response was complete fails', () => {
    const id = randomId(c.kind);
    const v = checkExchange(c, requestFor(round.prefill, id), requestFor(round.decode, id), {
      prefillCompletedAt: 12,
      decodeReceivedAt: 11,
    });
    expect(v.ok).toBe(false);
    expect(v.diff).toBe(
      'prefill-before-decode: decode arrived at 11, before the prefill response completed at 12',
    );
  });

  test('a leg that differs from the capture fails with its diff', () => {
    const id = randomId(c.kind);
    const decode = setHeader(requestFor(round.decode, id), 'Accept', 'text/event-stream');
    const v = checkExchange(c, requestFor(round.prefill, id), decode, inOrder, {
      decodeHostHeader: '127.0.0.1:20002',
    });
    expect(v.ok).toBe(false);
    expect(v.verdicts[1].ok).toBe(false);
    expect(v.diff).toContain('header:accept: got "text/event-stream", want "*/*"');
  });

  test('round robin: the round is found by its requests and the pair is compared', () => {
    const rr = findCase(referenceCases, '10-round-robin-2p2d');
    const r2 = rr.rounds[1]!;
    const id = randomId(rr.kind);
    const expectedZmq = { prefill: '127.0.0.1:21003', decode: '127.0.0.1:22004' };
    const prefill = requestFor(r2.prefill, id);
    const decode = requestFor(r2.decode, id);
    const right = checkExchange(rr, prefill, decode, inOrder, {
      expectedZmq,
      routedTo: { prefill: 1, decode: 1 },
    });
    expect(right).toMatchObject({ ok: true, index: 2 }); // rounds 2 and 4 hold the same requests
    const pinned = checkExchange(rr, prefill, decode, inOrder, {
      index: 2,
      routedTo: { prefill: 1, decode: 1 },
    });
    expect(pinned).toMatchObject({ ok: true, index: 2 });
    const wrong = checkExchange(rr, prefill, decode, inOrder, {
      index: 2,
      routedTo: { prefill: 0, decode: 1 },
    });
    expect(wrong.ok).toBe(false);
    expect(wrong.diff).toBe('round-robin-pair: routed to P1/D2, capture chose P2/D2');
    const missing = checkExchange(rr, prefill, decode, inOrder, { index: 9 });
    expect(missing).toMatchObject({ ok: false, diff: 'case 10-round-robin-2p2d has no request number 9' });
  });
});
