import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { bearer, send } from '../src/harness/http-get.js';
import { freePort } from '../src/harness/router-process.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { SECURITY_KEYS } from '../src/scenarios/security.js';

const recorder = new ResultRecorder('security-auth');
let stack: Stack;
let noAdmin: Stack;

const UNAUTHORIZED = {
  error: {
    message: 'missing or invalid API key',
    type: 'authentication_error',
    param: null,
    code: 'PD_ERR_UNAUTHORIZED',
  },
};

beforeAll(async () => {
  stack = await startStack({
    router: {
      apiKeys: [...SECURITY_KEYS.api],
      adminApiKey: SECURITY_KEYS.admin,
      upstreamApiKey: SECURITY_KEYS.upstream,
    },
  });
  noAdmin = await startStack({ router: { apiKeys: [...SECURITY_KEYS.api] } });
});

afterAll(async () => {
  await Promise.all([stack.close(), noAdmin.close()]);
  recorder.flush();
});

/**
 * A stack serving /metrics on a port of its own. A port free a moment ago may have been taken
 * since by another process (then what answers there is not the router): the router logs the
 * failed bind (it cannot fail its listen() for it), and another port is tried.
 */
async function stackWithMetricsPort(): Promise<{ stack: Stack; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const s = await startStack({
      router: { apiKeys: [...SECURITY_KEYS.api], prometheusPort: port, prometheusHost: '127.0.0.1' },
    });
    // The listener binds right after the main one (an onListen hook): one request's time is plenty.
    await send(s.url, 'GET', '/liveness');
    if (!s.log.lines.some((l) => l.msg === `metrics listener on port ${port} failed`))
      return { stack: s, port };
    await s.close();
    if (attempt === 5) throw new Error(`the metrics port was taken ${attempt} times in a row`);
  }
}

function upstreamCalls(s: Stack): number {
  return [...s.prefills, ...s.decodes].reduce((n, m) => n + m.received.length, 0);
}

describe('inbound API keys and the admin key', () => {
  it('security/api-keys-each-accepted', async () => {
    const statuses: number[] = [];
    for (const key of SECURITY_KEYS.api) {
      statuses.push(
        (await postCompletion(stack.url, completionBody(false), { headers: bearer(key) })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200]);
    recorder.record({
      id: 'security/api-keys-each-accepted',
      observed: `${statuses.join(', ')}: 200 for each key`,
    });
  });

  it('security/api-key-rejections', async () => {
    await stack.resetMocks();
    const [one, two] = SECURITY_KEYS.api;
    const sameLength = `${one.slice(0, -1)}X`;
    const attempts: Record<string, string>[] = [
      {},
      bearer('sk-not-a-key'),
      bearer(sameLength),
      bearer(two.slice(0, -1)),
      bearer(`${two}x`),
      { authorization: `bearer ${one}` },
      { authorization: `Basic ${Buffer.from(`user:${one}`).toString('base64')}` },
      { authorization: 'Bearer ' },
      { authorization: one },
    ];
    for (const headers of attempts) {
      const r = await postCompletion(stack.url, completionBody(false), { headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(JSON.parse(r.text)).toEqual(UNAUTHORIZED);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    expect(upstreamCalls(stack)).toBe(0);
    recorder.record({
      id: 'security/api-key-rejections',
      observed: `401 \`PD_ERR_UNAUTHORIZED\` (OpenAI shape, \`WWW-Authenticate: Bearer\`) for each of ${attempts.length}; nothing sent upstream`,
    });
  });

  it('security/api-key-guards-models-and-workers', async () => {
    const models = await send(stack.url, 'GET', '/v1/models');
    const workers = await send(stack.url, 'GET', '/workers');
    expect([models.status, models.code, workers.status, workers.code]).toEqual([
      401,
      'PD_ERR_UNAUTHORIZED',
      401,
      'PD_ERR_UNAUTHORIZED',
    ]);
    // ...and with a key they answer.
    expect((await send(stack.url, 'GET', '/v1/models', bearer(SECURITY_KEYS.api[0]))).status).toBe(200);
    recorder.record({
      id: 'security/api-key-guards-models-and-workers',
      observed: '401 `PD_ERR_UNAUTHORIZED` for both',
    });
  });

  it('security/open-endpoints', async () => {
    const statuses = [];
    for (const path of ['/health', '/liveness', '/readiness', '/metrics']) {
      statuses.push((await send(stack.url, 'GET', path)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    recorder.record({
      id: 'security/open-endpoints',
      observed: '200 for each (probes and scraping need no key)',
    });
  });

  it('security/metrics-name-workers', async () => {
    const open = await send(stack.url, 'GET', '/metrics');
    expect(open.status).toBe(200);
    expect(open.text).toContain(`worker="${stack.prefills[0]?.url}"`);
    const { stack: separate, port } = await stackWithMetricsPort();
    try {
      const main = await send(separate.url, 'GET', '/metrics');
      expect([main.status, main.code]).toEqual([404, 'PD_ERR_NOT_FOUND']);
      expect((await send(`http://127.0.0.1:${port}`, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await separate.close();
    }
    recorder.record({
      id: 'security/metrics-name-workers',
      observed:
        'the open `/metrics` labels series with worker URLs (it is for scraping: keep it internal); with `--prometheus-port` the main port answers 404 `PD_ERR_NOT_FOUND` and only the separate listener serves it',
    });
  });

  it('security/admin-key-admin-api', async () => {
    const r = await send(stack.url, 'GET', '/admin/workers', bearer(SECURITY_KEYS.admin));
    expect(r.status).toBe(200);
    recorder.record({ id: 'security/admin-key-admin-api', observed: String(r.status) });
  });

  it('security/inference-key-not-admin', async () => {
    for (const key of SECURITY_KEYS.api) {
      const r = await send(stack.url, 'GET', '/admin/workers', bearer(key));
      expect([r.status, r.code]).toEqual([401, 'PD_ERR_UNAUTHORIZED']);
    }
    recorder.record({ id: 'security/inference-key-not-admin', observed: '401 `PD_ERR_UNAUTHORIZED`' });
  });

  it('security/admin-key-not-inference', async () => {
    await stack.resetMocks();
    const r = await postCompletion(stack.url, completionBody(false), {
      headers: bearer(SECURITY_KEYS.admin),
    });
    expect([r.status, r.code]).toEqual([401, 'PD_ERR_UNAUTHORIZED']);
    const models = await send(stack.url, 'GET', '/v1/models', bearer(SECURITY_KEYS.admin));
    expect(models.status).toBe(401);
    expect(upstreamCalls(stack)).toBe(0);
    recorder.record({
      id: 'security/admin-key-not-inference',
      observed: '401 `PD_ERR_UNAUTHORIZED`; nothing sent upstream',
    });
  });

  it('security/admin-key-reads-workers', async () => {
    const r = await send(stack.url, 'GET', '/workers', bearer(SECURITY_KEYS.admin));
    expect(r.status).toBe(200);
    recorder.record({ id: 'security/admin-key-reads-workers', observed: String(r.status) });
  });

  it('security/admin-api-off-without-admin-key', async () => {
    const r = await send(noAdmin.url, 'GET', '/admin/workers', bearer(SECURITY_KEYS.api[0]));
    expect([r.status, r.code]).toEqual([404, 'PD_ERR_NOT_FOUND']);
    recorder.record({ id: 'security/admin-api-off-without-admin-key', observed: '404 `PD_ERR_NOT_FOUND`' });
  });
});
