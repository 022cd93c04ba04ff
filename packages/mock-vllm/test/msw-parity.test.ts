// The msw handlers against a real HTTP server: the same requests must get the same status,
// Content-Type and bytes. The server is called with undici's own fetch (msw patches only the global
// one), the handlers with the global fetch that msw intercepts.
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockVllm, createMswHandlers, type MockVllm } from '../src/index.js';

const MSW_BASE = 'http://vllm.test';
/** A second set of handlers (and a second server) whose first token never comes in a test's time. */
const SLOW_MSW_BASE = 'http://slow-vllm.test';
const SLOW_TTFT_MS = 120_000;

interface Probe {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A string is sent as is; bytes are sent without a Content-Type (fetch adds text/plain to strings). */
  readonly body?: string | Uint8Array;
}

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const chat = (extra: Record<string, unknown>): string =>
  JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'What is 2+2?' }], ...extra });
const completion = (extra: Record<string, unknown>): string =>
  JSON.stringify({ model: 'mock-model', prompt: 'The capital of France is', ...extra });
const post = (
  name: string,
  path: string,
  body: string | Uint8Array,
  headers: Record<string, string> = JSON_HEADERS,
): Probe => ({ name, method: 'POST', path, headers, body });
const withId = (id: string): Record<string, string> => ({ ...JSON_HEADERS, 'x-request-id': id });

const C = '/v1/completions';
const CHAT = '/v1/chat/completions';

/** Sent in this order to both; counters (/load, /metrics) are compared after them. */
const PROBES: readonly Probe[] = [
  post('completions JSON', C, completion({ max_tokens: 3 }), withId('parity-c1')),
  post('completions JSON, random id', C, completion({ max_tokens: 2 })),
  post('completions JSON, two prompts, n=2', C, completion({ prompt: ['a b c', 'd'], n: 2, max_tokens: 2 })),
  post('completions JSON, echo, no limit', C, completion({ echo: true }), withId('parity-c2')),
  post(
    'completions stream with usage',
    C,
    completion({ max_tokens: 4, stream: true, stream_options: { include_usage: true } }),
    withId('parity-c3'),
  ),
  post('completions stream, random id', C, completion({ max_tokens: 3, stream: true })),
  post('chat JSON', CHAT, chat({ max_tokens: 3 }), withId('parity-chat1')),
  post('chat JSON, random id, no limit', CHAT, chat({})),
  post('chat JSON, max_completion_tokens', CHAT, chat({ max_completion_tokens: 2, n: 2 })),
  post(
    'chat stream with usage',
    CHAT,
    chat({
      max_tokens: 3,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    }),
    withId('parity-chat2'),
  ),
  post('chat stream, random id', CHAT, chat({ max_tokens: 2, stream: true })),
  post('chat, body request_id', CHAT, chat({ max_tokens: 1, request_id: 'from-body' })),
  post('Python JSON (NaN)', CHAT, '{"messages":[{"role":"user","content":"x"}],"temperature":NaN}'),
  post('charset in the media type', CHAT, chat({ max_tokens: 1 }), {
    'content-type': 'Application/JSON; charset=utf-8',
  }),
  post('bad JSON', CHAT, '{"messages": [', withId('parity-bad')),
  post('empty body', C, ''),
  post('wrong content type', CHAT, chat({ max_tokens: 1 }), { 'content-type': 'text/plain' }),
  post('form content type', C, 'prompt=x', { 'content-type': 'application/x-www-form-urlencoded' }),
  post('no content type', CHAT, new TextEncoder().encode(chat({ max_tokens: 1 })), {}),
  post('max_tokens 0', C, completion({ max_tokens: 0 })),
  post('chat without messages', CHAT, JSON.stringify({ model: 'mock-model' })),
  post('a JSON array', C, '[1, 2]'),
  post('beyond the context length', C, completion({ max_tokens: 40_000 })),
  { name: 'models', method: 'GET', path: '/v1/models' },
  { name: 'health', method: 'GET', path: '/health' },
  { name: 'ping', method: 'GET', path: '/ping' },
  { name: 'version', method: 'GET', path: '/version' },
  { name: 'load', method: 'GET', path: '/load' },
  { name: 'metrics', method: 'GET', path: '/metrics' },
];

/** What must differ between two instances: random ids (no X-Request-Id) and timestamps. */
function normalize(body: string): string {
  return body
    .replace(/\b(chatcmpl|cmpl)-[0-9a-f]{32}\b/g, '$1-<random>')
    .replace(/"created":\d+/g, '"created":<time>');
}

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

const agent = new Agent({ keepAliveTimeout: 100, keepAliveMaxTimeout: 100 });
const serverFetch: Fetch = async (url, init) =>
  // undici's Response is the same class shape as the global one; only its type is distinct.
  (await undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as Response;
const mswFetch: Fetch = (url, init) => fetch(url, init);

async function call(send: Fetch, base: string, probe: Probe): Promise<Answer> {
  const res = await send(`${base}${probe.path}`, {
    method: probe.method,
    headers: probe.headers ?? {},
    ...(probe.body === undefined ? {} : { body: probe.body }),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

function comparable(a: Answer): Answer {
  return { ...a, body: normalize(a.body) };
}

/** Polls GET /load until it reports `load` (an aborted request is let go asynchronously). */
async function loadBecomes(send: Fetch, base: string, load: number): Promise<void> {
  const want = JSON.stringify({ server_load: load });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = (await call(send, base, { name: 'load', method: 'GET', path: '/load' })).body;
    if (got === want || Date.now() > deadline) {
      expect(got).toBe(want);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the msw handlers answer exactly as the HTTP server', () => {
  let server: MockVllm;
  let slowServer: MockVllm;
  const msw = setupServer(
    ...createMswHandlers({ http, baseUrl: MSW_BASE }),
    ...createMswHandlers({ http, baseUrl: SLOW_MSW_BASE, ttftMs: SLOW_TTFT_MS }),
  );

  beforeAll(async () => {
    [server, slowServer] = await Promise.all([
      createMockVllm({ role: 'both' }),
      createMockVllm({ role: 'both', timing: { ttftBaseMs: SLOW_TTFT_MS } }),
    ]);
    msw.listen({ onUnhandledRequest: 'error' });
  });
  afterAll(async () => {
    msw.close();
    await Promise.all([server?.close(), slowServer?.close()]);
    await agent.close();
  });

  it('gives the same status, Content-Type and body to every request, counters included', async () => {
    // One at a time, in order: /load and /metrics at the end see the same history on both sides.
    for (const probe of PROBES) {
      const fromServer = await call(serverFetch, server.url, probe);
      const fromMsw = await call(mswFetch, MSW_BASE, probe);
      expect({ probe: probe.name, ...comparable(fromMsw) }).toEqual({
        probe: probe.name,
        ...comparable(fromServer),
      });
    }
  });

  it('the comparison sees real answers (not two empty or failed ones)', async () => {
    const byName = async (name: string): Promise<Answer> => {
      const probe = PROBES.find((p) => p.name === name);
      if (probe === undefined) throw new Error(name);
      return call(mswFetch, MSW_BASE, probe);
    };
    const json = await byName('completions JSON');
    expect(json).toMatchObject({ status: 200, contentType: 'application/json' });
    expect(JSON.parse(json.body)).toMatchObject({
      id: 'cmpl-parity-c1',
      choices: [{ text: ' tok0 tok1 tok2' }],
    });
    const stream = await byName('chat stream with usage');
    expect(stream.contentType).toBe('text/event-stream; charset=utf-8');
    expect(stream.body.startsWith('data: {"id":"chatcmpl-parity-chat2"')).toBe(true);
    expect(stream.body.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const [name, message] of [
      ['wrong content type', "Unsupported Media Type: Only 'application/json' is allowed"],
      ['no content type', "Unsupported Media Type: Only 'application/json' is allowed"],
      ['bad JSON', '1 validation error: body: JSON decode error'],
    ] as const) {
      const bad = await byName(name);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toEqual({
        error: { message, type: 'BadRequestError', param: null, code: 400 },
      });
    }
    const metrics = await byName('metrics');
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.body).toMatch(/^vllm:generation_tokens_total\{[^}]*\} [1-9]\d*\.0$/m);
    expect(metrics.body).toMatch(/^vllm:request_errors_total\{[^}]*\} [1-9]\d*\.0$/m);
  });

  it('counts a stream in flight in /load and /metrics the same way, and lets it go when cancelled', async () => {
    const probe = post('slow stream', CHAT, chat({ max_tokens: 2, stream: true }), withId('parity-slow'));
    const sides = [
      { send: serverFetch, base: slowServer.url },
      { send: mswFetch, base: SLOW_MSW_BASE },
    ] as const;
    const info = async (path: string): Promise<Answer[]> =>
      Promise.all(sides.map((s) => call(s.send, s.base, { name: path, method: 'GET', path })));

    // Headers arrive before the first token (Starlette's StreamingResponse), then the stream waits.
    // Cancelled through the request's signal, as the openai client does: msw keeps a clone of every
    // mocked response (for its logs), so cancelling the body alone reaches the handler only when
    // that clone is garbage-collected.
    const aborts = sides.map(() => new AbortController());
    const streams = await Promise.all(
      sides.map((s, i) =>
        s.send(`${s.base}${probe.path}`, {
          method: 'POST',
          headers: probe.headers ?? {},
          body: probe.body as string,
          signal: aborts[i]?.signal ?? null,
        }),
      ),
    );
    for (const res of streams) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    }
    const [serverLoad, mswLoad] = await info('/load');
    expect(serverLoad?.body).toBe('{"server_load":1}');
    expect(mswLoad).toEqual(serverLoad);
    const [serverMetrics, mswMetrics] = await info('/metrics');
    expect(serverMetrics?.body).toMatch(/^vllm:num_requests_running\{[^}]*\} 1\.0$/m);
    expect(mswMetrics).toEqual(serverMetrics);

    for (const ac of aborts) ac.abort();
    await Promise.all(streams.map((res) => res.body?.cancel().catch(() => undefined)));
    await Promise.all(sides.map((s) => loadBecomes(s.send, s.base, 0)));
    const [serverAfter, mswAfter] = await info('/metrics');
    expect(serverAfter?.body).toMatch(/^vllm:num_requests_running\{[^}]*\} 0\.0$/m);
    // Cancelled before its first token: no prompt tokens, no success, no error on either side.
    expect(serverAfter?.body).toMatch(/^vllm:prompt_tokens_total\{[^}]*\} 0\.0$/m);
    expect(mswAfter).toEqual(serverAfter);
  });
});
