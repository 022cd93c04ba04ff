import { parseRequestId } from '@pd-router/core';
import type { MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { rawExchange } from '../src/harness/raw-http.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { postJson } from '../src/scenarios/bad-input.js';
import { CLIENT_ONLY_HEADERS, SECURITY_KEYS, UPSTREAM_HEADER_NAMES } from '../src/scenarios/security.js';

const recorder = new ResultRecorder('security-headers');
let pairs: Stack;
let nixl: Stack;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeAll(async () => {
  pairs = await startStack({
    prefill: 2,
    decode: 2,
    router: { policy: 'consistent_hash', upstreamApiKey: SECURITY_KEYS.upstream },
  });
  nixl = await startStack({
    prefillMock: { kvConnector: 'nixl' },
    decodeMock: { kvConnector: 'nixl' },
    router: { kvConnector: 'nixl' },
  });
});

afterAll(async () => {
  await Promise.all([pairs.close(), nixl.close()]);
  recorder.flush();
});

function names(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

function header(rawHeaders: readonly string[], name: string): string | undefined {
  const i = rawHeaders.findIndex((n, j) => j % 2 === 0 && n.toLowerCase() === name);
  return i < 0 ? undefined : rawHeaders[i + 1];
}

const allMocks = (): MockVllm[] => [...pairs.prefills, ...pairs.decodes];

describe('what reaches the workers', () => {
  it('security/client-request-id-ignored', async () => {
    await pairs.resetMocks();
    const clientIds: string[] = [];
    for (let i = 0; i < 8; i++) {
      const clientId = `___prefill_addr_10.9.9.9:${1_000 + i}___decode_addr_10.9.9.9:${2_000 + i}_client-${i}`;
      clientIds.push(clientId);
      const r = await postCompletion(pairs.url, completionBody(false), {
        headers: { 'x-request-id': clientId },
      });
      expect(r.status).toBe(200);
    }
    // One pair took all 8: the body (the hash key) chose it, the client's ids did not.
    expect(pairs.prefills.map((m) => m.received.length).sort()).toEqual([0, 8]);
    expect(pairs.decodes.map((m) => m.received.length).sort()).toEqual([0, 8]);
    const kv = new Set(allMocks().map((m) => m.kvAddress));
    for (const m of allMocks()) {
      for (const entry of m.received) {
        const id = entry.requestId ?? '';
        expect(clientIds).not.toContain(id);
        expect(id).not.toContain('10.9.9.9');
        expect(id).not.toContain('client-');
        const parsed = parseRequestId(id);
        expect(kv.has(parsed.prefill?.text ?? '')).toBe(true);
        expect(kv.has(parsed.decode?.text ?? '')).toBe(true);
      }
    }
    recorder.record({
      id: 'security/client-request-id-ignored',
      observed:
        "all 8 on the same pair (the id chooses nothing); each worker gets a fresh id naming only the configured ZMQ addresses, never the client's",
    });
  });

  it('security/upstream-header-set and security/client-headers-not-forwarded', async () => {
    await pairs.resetMocks();
    const clientAuth = 'Bearer client-secret-token';
    const r = await rawExchange({
      port: pairs.port,
      parts: [
        postJson(completionBody(false), [
          ['Content-Type', 'application/json'],
          ['Authorization', clientAuth],
          ...CLIENT_ONLY_HEADERS,
        ]),
      ],
    });
    expect(r.responses[0]?.status).toBe(200);
    const legs = allMocks().flatMap((m) => m.received);
    expect(legs).toHaveLength(2);
    const forbiddenValues = [clientAuth, ...CLIENT_ONLY_HEADERS.map(([, v]) => v)];
    for (const leg of legs) {
      // The exact header set, in order: nothing from the client, nothing hop-by-hop of theirs.
      expect(names(leg.rawHeaders)).toEqual([...UPSTREAM_HEADER_NAMES]);
      expect(header(leg.rawHeaders, 'authorization')).toBe(`Bearer ${SECURITY_KEYS.upstream}`);
      expect(header(leg.rawHeaders, 'connection')).toBe('keep-alive');
      const values = leg.rawHeaders.filter((_, i) => i % 2 === 1);
      for (const v of forbiddenValues) expect(values).not.toContain(v);
      expect(leg.rawHeaders.join('\n')).not.toMatch(/client-|10\.9\.9\.9|websocket|trailers|X-Drop-Me/i);
    }
    recorder.record({
      id: 'security/upstream-header-set',
      observed: `exactly ${UPSTREAM_HEADER_NAMES.map((h) => `\`${h}\``).join(', ')}, in that order`,
    });
    recorder.record({
      id: 'security/client-headers-not-forwarded',
      observed:
        'none of their names or values reach either worker; upstream Authorization is the upstream key',
    });
  });

  it('security/client-request-id-ignored-nixl', async () => {
    const clientId = '___prefill_addr_10.9.9.9:1___decode_addr_10.9.9.9:2_client-nixl';
    const r = await postCompletion(nixl.url, completionBody(false), {
      headers: { 'x-request-id': clientId },
    });
    expect(r.status).toBe(200);
    const ids = [...nixl.prefills, ...nixl.decodes].map((m) => m.received.at(-1)?.requestId ?? '');
    expect(ids[0]).toMatch(UUID4);
    expect(ids[1]).toBe(ids[0]);
    recorder.record({
      id: 'security/client-request-id-ignored-nixl',
      observed: "each worker gets a fresh uuid4 (the same on both legs), never the client's",
    });
  });

  it('security/completion-ids-hide-zmq-addresses', async () => {
    await pairs.resetMocks();
    const r = await postCompletion(pairs.url, completionBody(false));
    const id = (JSON.parse(r.text) as { id: string }).id;
    const p = pairs.prefills.find((m) => m.received.length > 0);
    const d = pairs.decodes.find((m) => m.received.length > 0);
    // The workers got the id with both addresses; the client gets its random part only.
    const sent = d?.received.at(-1)?.requestId ?? '';
    expect(sent.startsWith(`___prefill_addr_${p?.kvAddress}___decode_addr_${d?.kvAddress}_`)).toBe(true);
    expect(id).toBe(`cmpl-${sent.slice(sent.lastIndexOf('_') + 1)}`);
    expect(id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    const n = await postCompletion(nixl.url, completionBody(false));
    const nixlId = (JSON.parse(n.text) as { id: string }).id;
    expect(nixlId.slice('cmpl-'.length)).toMatch(UUID4);
    recorder.record({
      id: 'security/completion-ids-hide-zmq-addresses',
      observed:
        "P2P NCCL: vLLM's `cmpl-___prefill_addr_H:P___decode_addr_H:P_<hex>` reaches the client as `cmpl-<hex>`, no address; NIXL: `cmpl-<uuid4>`, no address",
    });
  });
});
