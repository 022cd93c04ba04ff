import { describe, expect, test } from 'vitest';
import { findCase, nixlCases, referenceCases } from './test-support.js';

describe('loadGoldenCases', () => {
  test('reads every case of both fixture sets', () => {
    expect(referenceCases.length).toBe(28);
    expect(nixlCases.length).toBe(35);
    expect(referenceCases.every((c) => c.kind === 'p2p-nccl' && c.fixtureSet === 'reference-proxy')).toBe(
      true,
    );
    expect(nixlCases.every((c) => c.kind === 'nixl' && c.fixtureSet === 'nixl-toy-proxy')).toBe(true);
    expect([...referenceCases, ...nixlCases].every((c) => c.target)).toBe(true);
  });

  test("the golden Authorization is what the capture's OPENAI_API_KEY implies", () => {
    for (const c of [...referenceCases, ...nixlCases]) {
      for (const r of c.rounds) {
        for (const g of [r.prefill, r.decode]) {
          const auth = g.headers.find(([k]) => k === 'Authorization')?.[1];
          expect(auth, `${c.name}`).toBe(c.apiKey === null ? 'Bearer None' : `Bearer ${c.apiKey}`.trimEnd());
        }
      }
    }
    expect(findCase(referenceCases, '07-env-key-empty-chat').apiKey).toBe('');
  });

  test('parses a single-request case', () => {
    const c = findCase(referenceCases, '01-seed-chat');
    expect(c.topology).toEqual({
      prefill: 1,
      decode: 1,
      zmq: { prefill: ['127.0.0.1:21001'], decode: ['127.0.0.1:22001'] },
    });
    expect(c.rounds).toHaveLength(1);
    const r = c.rounds[0]!;
    expect(r.index).toBeUndefined();
    expect(r.pair).toEqual({ prefill: 0, decode: 0 });
    expect(r.prefill).toMatchObject({
      method: 'POST',
      target: '/v1/chat/completions',
      httpVersion: 'HTTP/1.1',
    });
    expect(r.prefill.requestIdTemplate).toBe(
      '___prefill_addr_127.0.0.1:21001___decode_addr_127.0.0.1:22001_{uuid}',
    );
    expect(r.prefill.body.length).toBe(164);
    expect(r.decode.body.length).toBe(165);
    expect(r.client.body.length).toBe(165);
    expect(r.prefillResponse).toBeUndefined();
  });

  test('parses round robin: pairs in flag order', () => {
    const c = findCase(referenceCases, '10-round-robin-2p2d');
    expect(c.rounds.map((r) => [r.index, r.pair.prefill, r.pair.decode])).toEqual([
      [1, 0, 0],
      [2, 1, 1],
      [3, 0, 0],
      [4, 1, 1],
    ]);
    expect(c.rounds[1]!.prefill.headers.find(([k]) => k === 'Host')?.[1]).toBe('127.0.0.1:20003');
  });

  test('NIXL cases carry what the prefill answered, and delays are read', () => {
    const c = findCase(nixlCases, '09-request-id-and-order-chat');
    expect(c.prefillDelayMs).toBe(300);
    const r = c.rounds[0]!;
    expect(r.prefill.requestIdTemplate).toBe('{uuid}');
    expect(r.prefillResponse?.status).toBe(200);
    expect(Buffer.from(r.prefillResponse!.body).toString('utf8')).toContain(
      '"remote_request_id":"chatcmpl-{uuid}"',
    );
    expect(findCase(nixlCases, '10-round-robin-2p2d').topology).toEqual({ prefill: 2, decode: 2 });
    expect(findCase(nixlCases, '09-keepalive-reuse-completions').rounds).toHaveLength(3);
  });

  test('client requests keep their headers and exact body', () => {
    const r = findCase(referenceCases, '07-client-headers-not-forwarded-chat').rounds[0]!;
    expect(r.client.headers).toContainEqual(['X-Request-Id', 'client-chosen-id']);
    expect(r.client.method).toBe('POST');
    expect(r.client.body.length).toBe(165);
  });
});
