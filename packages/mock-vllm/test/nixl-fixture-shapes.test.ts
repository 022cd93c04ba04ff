import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGoldenCases } from '../src/conformance/index.js';
import { createPrefillServer, type MockVllm } from '../src/index.js';
import { agent } from './helpers.js';

// The NIXL toy-proxy captures: what the proxy sent each prefill, and what the capture's prefill answered.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/nixl-toy-proxy', import.meta.url));
const rounds = loadGoldenCases(FIXTURES).flatMap((c) =>
  c.rounds.map((round) => ({
    name: round.index === undefined ? c.name : `${c.name} #${round.index}`,
    round,
  })),
);

/**
 * vLLM's CompletionResponse has `service_tier` and `system_fingerprint` between `choices` and `usage`
 * (vllm/entrypoints/openai/completion/protocol.py); the captures' hand-written prefill left them out of
 * completions answers. The mock keeps vLLM's fields: they are the only keys allowed to differ.
 */
const VLLM_ONLY_COMPLETION_KEYS = new Set(['service_tier', 'system_fingerprint']);

/** Key paths in order: objects by key, arrays through their first element (values ignored). */
function keyPaths(value: unknown, path = '', skip: ReadonlySet<string> = new Set()): string[] {
  if (Array.isArray(value)) return value.length > 0 ? keyPaths(value[0], `${path}[]`, skip) : [];
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const p = path === '' ? key : `${path}.${key}`;
    if (skip.has(p)) continue;
    out.push(p, ...keyPaths(child, p, skip));
  }
  return out;
}

let prefill: MockVllm;
let noParams: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer({ kvConnector: 'nixl' });
  noParams = await createPrefillServer({ kvConnector: 'nixl', faults: [{ kind: 'nixl-no-params' }] });
});
afterAll(async () => {
  await Promise.all([prefill.close(), noParams.close()]);
});

describe('a NIXL prefill answers each captured prefill body with the captured keys, in order', () => {
  it('has the NIXL captures', () => {
    expect(rounds.length).toBeGreaterThanOrEqual(30);
  });

  it.each(rounds)('$name', async ({ round }) => {
    const golden = JSON.parse(Buffer.from(round.prefillResponse?.body ?? []).toString('utf8')) as Record<
      string,
      unknown
    >;
    const goldenParams = golden['kv_transfer_params'];
    // A captured `null` is vLLM's "not length-capped" answer: reproduce it with the fault. A `{}` or a
    // missing key (08-*) is something only the capture's fake did; vLLM always dumps the full dict.
    const fakeOnly =
      goldenParams === undefined ||
      (typeof goldenParams === 'object' && goldenParams !== null && Object.keys(goldenParams).length === 0);
    const target = goldenParams === null ? noParams : prefill;
    const res = await request(`${target.url}${round.prefill.target}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': randomUUID() },
      body: Buffer.from(round.prefill.body),
      dispatcher: agent,
    });
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(200);
    const ours = JSON.parse(text) as Record<string, unknown>;

    const skip = new Set<string>(round.prefill.target === '/v1/completions' ? VLLM_ONLY_COMPLETION_KEYS : []);
    if (fakeOnly) {
      expect(Object.keys(ours['kv_transfer_params'] as object)).toHaveLength(8);
      skip.add('kv_transfer_params');
    }
    expect(keyPaths(ours, '', skip)).toEqual(keyPaths(golden, '', skip));
    if (goldenParams !== null && !fakeOnly) {
      expect(Object.keys(ours['kv_transfer_params'] as object)).toEqual(Object.keys(goldenParams as object));
    }
  });
});
