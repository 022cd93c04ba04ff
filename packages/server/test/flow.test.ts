import { canonicalize, prefillBody } from '@pd-router/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import {
  e2eKit,
  type FakeWorker,
  fixedRandom16,
  jsonAnswer,
  postCompletion,
  SEED_COMPLETIONS_BODY,
  UPSTREAM_HEADER_NAMES,
} from './helpers.js';

const kit = e2eKit();

function setup(env: Record<string, string | undefined> = {}, extra = {}) {
  return kit.pair(extra, {
    decode: jsonAnswer({ id: 'cmpl-1', choices: [{ text: ' city' }] }),
    prefillZmq: '127.0.0.1:21001',
    decodeZmq: '127.0.0.1:22001',
    deps: { random16: fixedRandom16(), env },
  });
}

/** The header names a worker received, lower-cased, in order. */
function names(w: FakeWorker, i = 0): string[] {
  const raw = w.received[i]?.rawHeaders ?? [];
  return raw.filter((_, k) => k % 2 === 0).map((n) => n.toLowerCase());
}

describe('the two-stage flow', () => {
  it('sends P the prefill body and D the canonical body, with the reference header set and one id', async () => {
    const { p, d, router } = await setup();
    const body = '{"model":"mock-model","prompt":"San Francisco is a","max_tokens":50,"temperature":0}';
    const res = await request(`${router.url}/v1/completions?api-version=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        authorization: 'Bearer client-secret',
        'x-request-id': 'client-id',
        'x-custom': 'nope',
      },
      body,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(await res.body.json()).toEqual({ id: 'cmpl-1', choices: [{ text: ' city' }] });

    const bytes = new TextEncoder().encode(body);
    const expectedPrefill = prefillBody(bytes);
    const expectedDecode = canonicalize(bytes);
    if (!expectedPrefill.ok || !expectedDecode.ok) throw new Error('core rejected the seed body');
    const pr = p.received[0];
    const dr = d.received[0];
    expect(pr?.url).toBe('/v1/completions');
    expect(dr?.url).toBe('/v1/completions');
    expect(pr?.body.toString('latin1')).toBe(expectedPrefill.value);
    expect(dr?.body.toString('latin1')).toBe(expectedDecode.value);

    const id = `___prefill_addr_127.0.0.1:21001___decode_addr_127.0.0.1:22001_${'ab'.repeat(16)}`;
    for (const [w, r] of [
      [p, pr],
      [d, dr],
    ] as const) {
      const got = names(w);
      expect([...got].filter((n) => n !== 'connection').sort()).toEqual([...UPSTREAM_HEADER_NAMES].sort());
      expect(new Set(got).size).toBe(got.length);
      expect(r?.headers).toMatchObject({
        host: w.hostHeader,
        authorization: 'Bearer None',
        'x-request-id': id,
        accept: '*/*',
        'accept-encoding': 'gzip, deflate',
        'user-agent': `pd-router/${VERSION}`,
        'content-length': String(r?.body.length),
        'content-type': 'application/json',
      });
      expect(r?.headers['transfer-encoding']).toBeUndefined();
    }
    expect(dr?.at).toBeGreaterThan(pr?.at ?? Number.POSITIVE_INFINITY);
  });

  it('takes the upstream key from the flag, else OPENAI_API_KEY (empty stays empty), else None', async () => {
    const cases: [Record<string, string | undefined>, string | undefined, string][] = [
      [{ OPENAI_API_KEY: 'sk-env' }, 'sk-flag', 'Bearer sk-flag'],
      [{ OPENAI_API_KEY: 'sk-env' }, undefined, 'Bearer sk-env'],
      // Node's parser trims the trailing space of 'Bearer '; the raw-socket test sees the bytes.
      [{ OPENAI_API_KEY: '' }, undefined, 'Bearer'],
      [{}, undefined, 'Bearer None'],
    ];
    for (const [env, key, expected] of cases) {
      const { p, d, router } = await setup(env, { upstreamApiKey: key });
      const res = await request(`${router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model": "m", "messages": [{"role": "user", "content": "hi"}]}',
      });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      expect(p.received[0]?.headers.authorization).toBe(expected);
      expect(d.received[0]?.headers.authorization).toBe(expected);
      expect(p.received[0]?.url).toBe('/v1/chat/completions');
    }
  });

  it('relays the decode status, content type and body as is, even an error', async () => {
    const { d, router } = await setup();
    d.handler = (_req, res) => {
      res.writeHead(418, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('teapot');
    };
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(418);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await res.body.text()).toBe('teapot');
  });
});

describe('round robin through the router', () => {
  it('pairs request k with P[k mod nP] and D[k mod nD] in flag order (2P3D)', async () => {
    const ps = [await kit.worker(), await kit.worker()];
    const ds = [await kit.worker(), await kit.worker(), await kit.worker()];
    const router = await kit.router({ prefill: ps.map((w) => w.spec()), decode: ds.map((w) => w.spec()) });
    const pairs: [number, number][] = [];
    for (let k = 0; k < 6; k++) {
      const res = await request(`${router.url}/v1/${k % 2 === 0 ? 'completions' : 'chat/completions'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: SEED_COMPLETIONS_BODY,
      });
      await res.body.dump();
      const pi = ps.findIndex((w) => w.received.length > pairs.filter(([p]) => ps[p] === w).length);
      const di = ds.findIndex((w) => w.received.length > pairs.filter(([, d]) => ds[d] === w).length);
      pairs.push([pi, di]);
    }
    expect(pairs).toEqual([
      [0, 0],
      [1, 1],
      [0, 2],
      [1, 0],
      [0, 1],
      [1, 2],
    ]);
  });
});
