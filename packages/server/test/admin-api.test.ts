import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { type Dispatcher, request } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  availableUrls,
  complete,
  HEALTH_OFF,
  slowStream,
  startDynamicRouter,
  workerUrls,
} from './dynamic-helpers.js';
import { closeAfterEach, type Router, testConfig, waitFor } from './helpers.js';

const KEY = 'adm1n-s3cret';
const open = closeAfterEach();

async function mock(role: 'prefill' | 'decode', interTokenMs = 0): Promise<MockVllm> {
  const m = await createMockVllm({ role, kvWaitTimeoutMs: 5_000, timing: { interTokenMs } });
  open.push(m);
  return m;
}

async function admin(
  router: Router,
  method: Dispatcher.HttpMethod,
  path: string,
  body?: unknown,
  key: string | null = KEY,
): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['authorization'] = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${router.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.statusCode,
    headers: res.headers,
    json: (await res.body.json()) as Record<string, unknown>,
  };
}

describe('the admin API', () => {
  it('is not there without --admin-api-key', async () => {
    const p = await mock('prefill');
    const d = await mock('decode');
    const router = await startDynamicRouter(
      testConfig({ prefill: [p.workerSpec], decode: [d.workerSpec], health: HEALTH_OFF }),
    );
    open.push(router);
    const res = await admin(router, 'GET', '/admin/workers');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ error: { code: 'PD_ERR_NOT_FOUND' } });
  });

  it('requires the admin key (not a client key), answering 401 in OpenAI shape', async () => {
    const p = await mock('prefill');
    const d = await mock('decode');
    const router = await startDynamicRouter(
      testConfig({
        prefill: [p.workerSpec],
        decode: [d.workerSpec],
        adminApiKey: KEY,
        apiKeys: ['client'],
        health: HEALTH_OFF,
      }),
    );
    open.push(router);
    for (const key of [null, 'client', `${KEY}x`, KEY.slice(0, -1), '']) {
      const res = await admin(router, 'GET', '/admin/workers', undefined, key);
      expect(res.status, String(key)).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="pd-router admin"');
      expect(res.json).toEqual({
        error: {
          message: 'missing or invalid admin API key',
          type: 'authentication_error',
          param: null,
          code: 'PD_ERR_UNAUTHORIZED',
        },
      });
    }
    const ok = await admin(router, 'GET', '/admin/workers');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({
      workers: [
        {
          id: `prefill:${p.url}`,
          role: 'prefill',
          url: p.url,
          zmq: p.kvAddress,
          source: 'static',
          available: true,
          healthy: true,
          pending: false,
          kvReady: true,
          circuit: 'closed',
          failureStreak: 0,
          draining: false,
          inFlight: 0,
          lastSeen: null,
        },
        expect.objectContaining({ id: `decode:${d.url}`, source: 'static' }),
      ],
      discovery: { zmq: null, kubernetes: false, warnings: [] },
    });
  });

  it('adds, drains, undrains and removes workers without cutting requests in flight', async () => {
    const p = await mock('prefill');
    const d1 = await mock('decode', 40);
    const d2 = await mock('decode', 40);
    const router = await startDynamicRouter(
      testConfig({ prefill: [p.workerSpec], decode: [d1.workerSpec], adminApiKey: KEY, health: HEALTH_OFF }),
    );
    open.push(router);

    const added = await admin(router, 'POST', '/admin/workers', { role: 'decode', url: d2.workerSpec });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({
      worker: { url: d2.url, zmq: d2.kvAddress, source: 'admin', available: false, pending: true },
      warnings: [],
    });
    // It takes traffic once it has answered a health check.
    await waitFor(() => availableUrls(router, 'decode').length === 2, 15_000, 'd2 to be admitted');
    expect(availableUrls(router, 'decode')).toEqual([d1.url, d2.url]);
    const duplicate = await admin(router, 'POST', '/admin/workers', { role: 'decode', url: `${d2.url}/` });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json).toMatchObject({
      error: { code: 'PD_ERR_WORKER_EXISTS', type: 'invalid_request_error' },
    });
    const bad = await admin(router, 'POST', '/admin/workers', { role: 'decode', url: 'nonsense' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { code: 'PD_ERR_WORKER_URL_INVALID', param: 'url' } });
    const badRole = await admin(router, 'POST', '/admin/workers', { role: 'both', url: d2.workerSpec });
    expect(badRole.status).toBe(400);
    expect(badRole.json).toMatchObject({ error: { code: 'PD_ERR_BAD_REQUEST' } });
    const bare = await admin(router, 'POST', '/admin/workers', {
      role: 'prefill',
      url: 'http://127.0.0.1:9',
    });
    expect(bare.json['warnings']).toEqual([expect.stringContaining('has no :zmq://HOST:PORT')]);
    expect((await admin(router, 'DELETE', '/admin/workers/prefill/127.0.0.1:9')).status).toBe(200);

    // Drain d2: only d1 gets work. Then drain d1 while a slow stream runs on it.
    const hostPort = (m: MockVllm) => m.url.slice('http://'.length);
    expect((await admin(router, 'POST', `/admin/workers/decode/${hostPort(d2)}/drain`)).json).toMatchObject({
      worker: { draining: true, available: false },
    });
    const stream = await slowStream(router, 15);
    expect(d1.received).toHaveLength(1);
    const drained = await admin(router, 'POST', `/admin/workers/decode/${encodeURIComponent(d1.url)}/drain`);
    expect(drained.json).toMatchObject({ worker: { draining: true, inFlight: 1 } });
    const none = await complete(router);
    expect(none.status).toBe(503);
    expect(JSON.parse(none.text)).toMatchObject({ error: { code: 'PD_ERR_NO_DECODE_WORKER' } });
    const text = await stream.text;
    expect(text.match(/"text":/g)).toHaveLength(15);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect((await admin(router, 'POST', `/admin/workers/decode/${hostPort(d2)}/undrain`)).status).toBe(200);
    expect((await complete(router)).status).toBe(200);
    expect(d2.received).toHaveLength(1);

    // Remove d2 while a slow stream runs on it: the stream finishes, new requests go elsewhere.
    await admin(router, 'POST', `/admin/workers/decode/${hostPort(d1)}/undrain`);
    await admin(router, 'POST', `/admin/workers/decode/${hostPort(d1)}/drain`);
    const onD2 = await slowStream(router, 15);
    expect(d2.received).toHaveLength(2);
    const removed = await admin(
      router,
      'DELETE',
      `/admin/workers/decode/${encodeURIComponent(`decode:${d2.url}`)}`,
    );
    expect(removed.json).toMatchObject({ worker: { url: d2.url, inFlight: 1 } });
    expect(workerUrls(router, 'decode')).toEqual([d1.url]);
    expect((await onD2.text).endsWith('data: [DONE]\n\n')).toBe(true);
    const again = await admin(router, 'DELETE', `/admin/workers/decode/${hostPort(d2)}`);
    expect(again.status).toBe(404);
    expect(again.json).toEqual({
      error: {
        message: `no decode worker "${hostPort(d2)}"`,
        type: 'invalid_request_error',
        param: null,
        code: 'PD_ERR_WORKER_NOT_FOUND',
      },
    });
  });

  it('under NIXL takes an IPv6 worker without a ZMQ address, as the CLI does; P2P NCCL refuses it', async () => {
    const p = await mock('prefill');
    const d = await mock('decode');
    for (const kvConnector of ['nixl', 'p2p-nccl'] as const) {
      const router = await startDynamicRouter(
        testConfig({
          kvConnector,
          prefill: [p.workerSpec],
          decode: [d.workerSpec],
          adminApiKey: KEY,
          health: HEALTH_OFF,
        }),
      );
      open.push(router);
      const added = await admin(router, 'POST', '/admin/workers', {
        role: 'decode',
        url: 'http://[::1]:8000',
      });
      if (kvConnector === 'nixl') {
        expect(added.status, JSON.stringify(added.json)).toBe(201);
        expect(added.json).toMatchObject({ worker: { id: 'decode:http://[::1]:8000' } });
        expect(workerUrls(router, 'decode')).toContain('http://[::1]:8000');
      } else {
        expect(added.status).toBe(400);
        expect(added.json).toMatchObject({ error: { param: 'url' } });
      }
    }
  });
});
