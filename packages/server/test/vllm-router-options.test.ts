import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import {
  asLogger,
  CaptureLogger,
  closeAfterEach,
  jsonAnswer,
  type Router,
  SEED_COMPLETIONS_BODY,
  sleep,
  sseAnswer,
  startFakeWorker,
  startRouter,
  testConfig,
} from './helpers.js';

// vllm-router's flags with a behaviour of their own, end to end on real sockets: the worker key,
// client keys and validation URLs, CORS, client request ids, and how a relayed 4xx is logged.
const open = closeAfterEach();

async function setup(overrides: Partial<Config> = {}) {
  const p = await startFakeWorker(jsonAnswer({ prefill: true }));
  const d = await startFakeWorker(jsonAnswer({ decode: true }));
  open.push(p, d);
  const log = new CaptureLogger();
  const router = await startRouter(testConfig({ prefill: [p.spec()], decode: [d.spec()], ...overrides }), {
    logger: asLogger(log),
    env: {},
  });
  open.push(router);
  return { p, d, router, log };
}

async function post(router: Router, headers: Record<string, string> = {}) {
  const res = await request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: SEED_COMPLETIONS_BODY,
  });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

/** A validation endpoint as vllm-router calls it: 200 for the tokens in `valid`, 401 otherwise. */
async function startValidator(valid: Set<string>) {
  const calls: string[] = [];
  let stalled = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    calls.push(token);
    if (stalled) return; // never answers: the router's budget must say no
    res.writeHead(valid.has(token) ? 200 : 401).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/check`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  open.push({ close });
  return { url, calls, stall: () => (stalled = true) };
}

describe('--api-key is the key the workers get', () => {
  it('reaches both legs as "Authorization: Bearer KEY", over $OPENAI_API_KEY', async () => {
    const p = await startFakeWorker(jsonAnswer({ prefill: true }));
    const d = await startFakeWorker(jsonAnswer({ decode: true }));
    open.push(p, d);
    const loaded = loadConfig({
      argv: ['--prefill', p.spec(), '--decode', d.spec(), '--api-key', 'worker-key'],
    });
    if (!loaded.ok) throw loaded.error;
    const router = await startRouter(
      { ...loaded.value, host: '127.0.0.1', port: 0, logLevel: 'silent' },
      {
        env: { OPENAI_API_KEY: 'from-env' },
      },
    );
    open.push(router);
    expect((await post(router)).status).toBe(200);
    expect(p.received[0]?.headers.authorization).toBe('Bearer worker-key');
    expect(d.received[0]?.headers.authorization).toBe('Bearer worker-key');
  });
});

describe('client keys: --client-api-key and --api-key-validation-urls', () => {
  it('lets in static keys and tokens a validation URL accepts, caches answers until they expire, fails closed', async () => {
    const validator = await startValidator(new Set(['good']));
    const { router } = await setup({
      apiKeys: ['static'],
      keyValidation: { urls: [validator.url], cacheTtlMs: 500, timeoutMs: 300 },
    });
    const as = async (token?: string) =>
      (await post(router, token === undefined ? {} : { authorization: `Bearer ${token}` })).status;
    expect(await as('static')).toBe(200);
    expect(validator.calls).toEqual([]);
    expect(await as()).toBe(401);
    expect(await as('good')).toBe(200);
    expect(await as('good')).toBe(200);
    expect(await as('bad')).toBe(401);
    expect(await as('bad')).toBe(401);
    // One GET per token while its answer is trusted.
    expect(validator.calls).toEqual(['good', 'bad']);
    await sleep(700);
    expect(await as('good')).toBe(200);
    expect(validator.calls).toEqual(['good', 'bad', 'good']);
    // A validator that does not answer in time says no.
    validator.stall();
    const started = performance.now();
    expect(await as('new')).toBe(401);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('answers 401 in the OpenAI error shape', async () => {
    const validator = await startValidator(new Set());
    const { router } = await setup({
      keyValidation: { urls: [validator.url], cacheTtlMs: 60_000, timeoutMs: 1_000 },
    });
    const res = await post(router, { authorization: 'Bearer nope' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({
      error: {
        message: 'missing or invalid API key',
        type: 'authentication_error',
        param: null,
        code: 'PD_ERR_UNAUTHORIZED',
      },
    });
  });
});

describe('--cors-allowed-origins', () => {
  it('answers preflights from a listed origin and marks its answers, JSON and streamed', async () => {
    const { router, d } = await setup({ corsAllowedOrigins: ['http://app.example'] });
    const preflight = await request(`${router.url}/v1/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    await preflight.body.dump();
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': 'http://app.example',
      'access-control-allow-methods': 'GET, POST, OPTIONS',
      'access-control-allow-headers': 'authorization, content-type',
    });
    const json = await post(router, { origin: 'http://app.example' });
    expect(json.headers['access-control-allow-origin']).toBe('http://app.example');
    d.handler = sseAnswer(['{"x":1}']);
    const streamed = await post(router, { origin: 'http://app.example' });
    expect(streamed.headers['content-type']).toContain('text/event-stream');
    expect(streamed.headers['access-control-allow-origin']).toBe('http://app.example');
    const other = await post(router, { origin: 'http://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('--request-id-headers', () => {
  it("echoes the client's id as x-request-id, logs it, and never sends it upstream", async () => {
    const { router, p, d, log } = await setup({ requestIdHeaders: ['x-trace-id', 'x-client-id'] });
    const json = await post(router, { 'x-client-id': 'client-42' });
    expect(json.status).toBe(200);
    expect(json.headers['x-request-id']).toBe('client-42');
    d.handler = sseAnswer(['{"x":1}']);
    const streamed = await post(router, { 'x-trace-id': 'trace-7', 'x-client-id': 'client-43' });
    expect(streamed.headers['x-request-id']).toBe('trace-7');
    const lines = log.entries.filter((e) => e.msg === 'proxied request');
    expect(lines.map((e) => e.fields['clientRequestId'])).toEqual(['client-42', 'trace-7']);
    for (const worker of [p, d]) {
      for (const received of worker.received) {
        expect(received.rawHeaders.join('\n')).not.toMatch(/client-4|trace-7|x-client-id|x-trace-id/);
      }
    }
    const none = await post(router);
    expect(none.headers['x-request-id']).toBeUndefined();
  });
});

describe('a client mistake is not a worker failure in the log', () => {
  it('logs a relayed decode 4xx at info as client_error, and a prefill 4xx too', async () => {
    const { router, p, d, log } = await setup();
    d.handler = jsonAnswer({ error: { message: 'model not found' } }, 404);
    expect((await post(router)).status).toBe(404);
    p.handler = jsonAnswer({ error: { message: 'bad params' } }, 400);
    expect((await post(router)).status).toBe(400);
    const lines = log.entries.filter((e) => e.msg?.startsWith('proxied request'));
    expect(lines.map((e) => [e.level, e.fields['outcome'], e.fields['status']])).toEqual([
      ['info', 'client_error', 404],
      ['info', 'client_error', 400],
    ]);
    expect(lines[1]?.fields['code']).toBe('PD_ERR_PREFILL_REJECTED');
  });
});
