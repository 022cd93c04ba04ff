import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { PolicyName } from '../src/config/types.js';
import { COMPLETION_BODY, type FakeCluster, fakeClusterPerTest } from './fake-cluster.js';
import type { FakeWorker, Router } from './helpers.js';

const startCluster = fakeClusterPerTest();

function setup(policy: PolicyName): Promise<FakeCluster> {
  return startCluster({ policy, prefillPolicy: policy, decodePolicy: policy }, { prefills: 2, decodes: 2 });
}

/** Sends one request with the session header; returns the indices of the prefill and decode that got it. */
async function route(
  router: Router,
  p: readonly FakeWorker[],
  d: readonly FakeWorker[],
  headers: Record<string, string>,
  body = COMPLETION_BODY,
): Promise<[number, number]> {
  const before = [...p, ...d].map((w) => w.received.length);
  const res = await request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  expect(res.statusCode).toBe(200);
  await res.body.text();
  const got = [...p, ...d].map((w, i) => w.received.length - (before[i] ?? 0));
  return [got.slice(0, p.length).indexOf(1), got.slice(p.length).indexOf(1)];
}

async function finish(router: Router, query: string): Promise<{ status: number; body: unknown }> {
  const res = await request(`${router.url}/finish_session${query}`, { method: 'POST' });
  return { status: res.statusCode, body: await res.body.json() };
}

describe('sticky_least_loaded and POST /finish_session', () => {
  it('keeps a session on its pair, gives new sessions the least-loaded workers, and frees them on finish_session', async () => {
    const { p, d, router } = await setup('sticky_least_loaded');
    const a = await route(router, p, d, { 'x-session-id': 'a' });
    for (let i = 0; i < 3; i++) expect(await route(router, p, d, { 'x-session-id': 'a' })).toEqual(a);
    // A session named in the body (OpenAI's `user`) counts too: the second session goes to the other pair.
    const b = await route(router, p, d, {}, '{"model": "m", "prompt": "hi", "user": "b"}');
    expect(b).toEqual([1 - a[0], 1 - a[1]]);
    expect(await finish(router, '?session_id=a')).toEqual({
      status: 200,
      body: { status: 'ok', session_id: 'a', released: true },
    });
    expect((await finish(router, '?session_id=a')).body).toEqual({
      status: 'ok',
      session_id: 'a',
      released: false,
    });
    // a's workers now hold nothing: the next new session goes there.
    expect(await route(router, p, d, { 'x-session-id': 'c' })).toEqual(a);
  });

  it('answers 400 in the OpenAI shape without a session id', async () => {
    const { router } = await setup('sticky_least_loaded');
    const res = await finish(router, '');
    expect(res).toEqual({
      status: 400,
      body: {
        error: {
          message:
            'session_id is required: POST /finish_session?session_id=ID, or a JSON body {"session_id": "ID"}',
          type: 'invalid_request_error',
          param: 'session_id',
          code: 'PD_ERR_BAD_REQUEST',
        },
      },
    });
  });
});

describe('rendezvous_hash', () => {
  it('sends a session to the same pair every time, and different sessions across the workers', async () => {
    const { p, d, router } = await setup('rendezvous_hash');
    const seen = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const first = await route(router, p, d, { 'x-session-id': `s${s}` });
      expect(await route(router, p, d, { 'x-session-id': `s${s}` })).toEqual(first);
      seen.add(first.join(','));
    }
    expect(seen.size).toBeGreaterThan(1);
  });
});
