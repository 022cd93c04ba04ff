import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createDecodeServer,
  createMockVllm,
  createPrefillServer,
  type MockVllm,
  MockVllmError,
  parseFaultArg,
  vllmErrorBody,
} from '../src/index.js';
import { agent, chatBody, completionBody, completionOutcome, p2pId, post, send, sseData } from './helpers.js';

let mock: MockVllm;

beforeAll(async () => {
  mock = await createMockVllm({ role: 'both' });
});
afterEach(async () => {
  await mock.setFaults([]);
});
afterAll(async () => {
  await mock.close();
});

/** Streams a request and notes when each chunk arrived; resolves with the error, if the stream broke. */
async function timedStream(url: string, body: unknown) {
  const started = Date.now();
  const chunks: { at: number; text: string }[] = [];
  let headersAt = 0;
  let error: string | undefined;
  try {
    const res = await agent.request({
      origin: url,
      path: '/v1/chat/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    headersAt = Date.now() - started;
    for await (const chunk of res.body) chunks.push({ at: Date.now() - started, text: String(chunk) });
  } catch (e) {
    error = (e as Error).message;
  }
  return { headersAt, chunks, text: chunks.map((c) => c.text).join(''), error };
}

/** Connects and reports whether the connection was refused. */
function tryConnect(port: number): Promise<'refused' | 'connected'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', () => resolve('refused'));
  });
}

describe('status fault', () => {
  it("answers the status with vLLM's error body, for the next N completion requests only", async () => {
    await mock.setFaults({ kind: 'status', status: 503, times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const r = await post(mock.url, '/v1/completions', completionBody());
      expect(r.status).toBe(503);
      expect(JSON.parse(r.text)).toEqual(vllmErrorBody(503, 'mock fault: status 503'));
    }
    expect((await send(`${mock.url}/health`)).status).toBe(200);
    expect((await post(mock.url, '/v1/completions', completionBody())).status).toBe(200);
    expect(mock.faults).toEqual([]);
  });

  it('covers 400, 429 and 500 with their vLLM types, and every route with scope all', async () => {
    for (const [status, type] of [
      [400, 'BadRequestError'],
      [429, 'TooManyRequestsError'],
      [500, 'InternalServerError'],
    ] as const) {
      await mock.setFaults({ kind: 'status', status, message: 'boom' });
      const r = await post(mock.url, '/v1/chat/completions', chatBody());
      expect(r.status).toBe(status);
      expect(JSON.parse(r.text).error).toEqual({ message: 'boom', type, param: null, code: status });
    }
    await mock.setFaults({ kind: 'status', status: 503, scope: 'all' });
    expect((await send(`${mock.url}/health`)).status).toBe(503);
  });
});

describe('refuse fault', () => {
  it('closes the listener (ECONNREFUSED) until cleared, then listens on the same port again', async () => {
    await mock.setFaults({ kind: 'refuse' });
    expect(await tryConnect(mock.port)).toBe('refused');
    await mock.setFaults([]);
    expect(await tryConnect(mock.port)).toBe('connected');
    expect((await send(`${mock.url}/health`)).status).toBe(200);
  });

  it('reopens by itself after durationMs', async () => {
    await mock.setFaults({ kind: 'refuse', durationMs: 150 });
    expect(await tryConnect(mock.port)).toBe('refused');
    await new Promise((r) => setTimeout(r, 400));
    expect(await tryConnect(mock.port)).toBe('connected');
    expect(mock.faults).toEqual([]);
  });

  it("mode 'destroy' resets the next N connections", async () => {
    await mock.setFaults({ kind: 'refuse', mode: 'destroy', times: 1 });
    const fresh = await import('undici').then((u) => new u.Agent({ keepAliveTimeout: 10 }));
    try {
      await expect(fresh.request({ origin: mock.url, path: '/health', method: 'GET' })).rejects.toThrow();
      const ok = await fresh.request({ origin: mock.url, path: '/health', method: 'GET' });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
    } finally {
      await fresh.close();
    }
  });
});

describe('hang and slow headers', () => {
  it('hang reads the request and never answers', async () => {
    await mock.setFaults({ kind: 'hang', times: 1 });
    const outcome = await completionOutcome(mock.url, { signal: AbortSignal.timeout(300) });
    expect(outcome).not.toBe('answered');
    expect(mock.received.at(-1)?.body.length).toBeGreaterThan(0);
    expect((await post(mock.url, '/v1/completions', completionBody())).status).toBe(200);
  });

  it('slow-headers delays the status line', async () => {
    await mock.setFaults({ kind: 'slow-headers', delayMs: 300 });
    const r = await timedStream(mock.url, chatBody({ stream: true }));
    expect(r.headersAt).toBeGreaterThanOrEqual(250);
    expect(sseData(r.text).at(-1)).toBe('[DONE]');
  });
});

describe('stream faults', () => {
  it('reset-after N destroys the socket after N SSE events', async () => {
    await mock.setFaults({ kind: 'reset-after', events: 2 });
    const r = await timedStream(mock.url, chatBody({ stream: true, max_tokens: 8 }));
    expect(r.error).toBeDefined();
    expect(sseData(r.text)).toHaveLength(2);
  });

  it('reset-after on JSON: 0 resets before any byte, N > 0 after a partial body', async () => {
    await mock.setFaults({ kind: 'reset-after', events: 0, times: 1 });
    await expect(post(mock.url, '/v1/completions', completionBody())).rejects.toThrow();
    await mock.setFaults({ kind: 'reset-after', events: 1, times: 1 });
    await expect(post(mock.url, '/v1/completions', completionBody())).rejects.toThrow();
    expect(mock.received.at(-1)?.outcome).toBe('aborted');
  });

  it('malformed-sse emits a frame that is not JSON', async () => {
    await mock.setFaults({ kind: 'malformed-sse' });
    const r = await timedStream(mock.url, chatBody({ stream: true }));
    const data = sseData(r.text);
    expect(data.some((d) => d !== '[DONE]' && !isJson(d))).toBe(true);
  });

  it('stall pauses once before the given event', async () => {
    // A stall far longer than an event-loop stall on a loaded machine, so that the events before it
    // reach the client in an earlier chunk than the last one.
    await mock.setFaults({ kind: 'stall', ms: 1_500, after: 2 });
    const r = await timedStream(mock.url, chatBody({ stream: true, max_tokens: 4 }));
    expect(sseData(r.text).at(-1)).toBe('[DONE]');
    const last = r.chunks.at(-1)?.at ?? 0;
    expect(last).toBeGreaterThanOrEqual(1_450);
    expect(r.chunks[0]?.at ?? 0).toBeLessThan(last - 500);
    expect(sseData(r.chunks[0]?.text ?? '').length).toBeLessThanOrEqual(2);
  });
});

describe('kv-never-arrives', () => {
  it('makes the prefill skip its KV notice, so the decode times out', async () => {
    const prefill = await createPrefillServer({ faults: [{ kind: 'kv-never-arrives', times: 1 }] });
    const decode = await createDecodeServer({ kvWaitTimeoutMs: 2_000 });
    try {
      const id = p2pId(prefill.kvAddress, decode.kvAddress);
      expect(
        (await post(prefill.url, '/v1/completions', completionBody(), { 'x-request-id': id })).status,
      ).toBe(200);
      expect(
        (await post(decode.url, '/v1/completions', completionBody(), { 'x-request-id': id })).status,
      ).toBe(500);
      const id2 = p2pId(prefill.kvAddress, decode.kvAddress);
      await post(prefill.url, '/v1/completions', completionBody(), { 'x-request-id': id2 });
      expect(
        (await post(decode.url, '/v1/completions', completionBody(), { 'x-request-id': id2 })).status,
      ).toBe(200);
    } finally {
      await Promise.all([prefill.close(), decode.close()]);
    }
  });
});

describe('body fault', () => {
  it('answers JSON and stream requests with the raw body, `times` of them, then generates again', async () => {
    const before = mock.received.length;
    await mock.setFaults({ kind: 'body', body: '42', times: 2 });
    const json = await post(mock.url, '/v1/completions', completionBody());
    const stream = await post(mock.url, '/v1/chat/completions', chatBody({ stream: true }));
    for (const r of [json, stream]) {
      expect(r.status).toBe(200);
      expect(r.text).toBe('42');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['content-length']).toBe('2');
    }
    expect(mock.faults).toEqual([]);
    const normal = await post(mock.url, '/v1/completions', completionBody());
    expect(JSON.parse(normal.text).choices).toHaveLength(1);
    const streamed = await post(mock.url, '/v1/chat/completions', chatBody({ stream: true }));
    expect(sseData(streamed.text).at(-1)).toBe('[DONE]');
    const records = mock.received.slice(before);
    // A record's status is filled in when the server sees its answer close, which can trail the client.
    await vi.waitFor(() => expect(records.map((r) => r.status)).toEqual([200, 200, 200, 200]), {
      timeout: 5_000,
    });
    expect(records.map((r) => r.path)).toEqual([
      '/v1/completions',
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/chat/completions',
    ]);
  });

  it('sends the chosen status and content type, before validation, set through POST /_mock/faults', async () => {
    const html = '<html>proxy error, upstream gone</html>';
    const set = await send(`${mock.url}/_mock/faults`, {
      body: JSON.stringify({
        faults: [
          { kind: 'body', status: 502, contentType: 'text/html', body: html, times: 1 },
          { kind: 'body', body: '{"id":"cmpl-x","choices":[]}', times: 1 },
          { kind: 'body', status: 204, body: 'ignored', times: 1 },
          { kind: 'body', contentType: '', body: '[1]', times: 1 },
        ],
      }),
    });
    expect(set.status).toBe(200);
    const bad = await send(`${mock.url}/v1/chat/completions`, { body: 'not json', headers: {} });
    expect([bad.status, bad.headers['content-type'], bad.text]).toEqual([502, 'text/html', html]);
    expect(bad.headers['content-length']).toBe(String(Buffer.byteLength(html)));
    const noParams = await post(mock.url, '/v1/completions', completionBody({ stream: true }));
    expect(JSON.parse(noParams.text)).toEqual({ id: 'cmpl-x', choices: [] });
    const empty = await post(mock.url, '/v1/completions', completionBody());
    expect([empty.status, empty.text, empty.headers['content-length']]).toEqual([204, '', undefined]);
    const untyped = await post(mock.url, '/v1/completions', completionBody());
    expect([untyped.status, untyped.text, untyped.headers['content-type']]).toEqual([200, '[1]', undefined]);
    expect((await post(mock.url, '/v1/completions', completionBody())).status).toBe(200);
  });

  it('works from the start with the CLI spec form', async () => {
    const started = await createMockVllm({ faults: [parseFaultArg('body,status=503,times=1,body=[1, 2]')] });
    try {
      const r = await post(started.url, '/v1/completions', completionBody());
      expect([r.status, r.text]).toEqual([503, '[1, 2]']);
      expect((await post(started.url, '/v1/completions', completionBody())).status).toBe(200);
    } finally {
      await started.close();
    }
  });
});

describe('admin endpoint and validation', () => {
  it('POST /_mock/faults switches faults at runtime; GET lists them; DELETE clears', async () => {
    const set = await send(`${mock.url}/_mock/faults`, {
      body: JSON.stringify({ faults: [{ kind: 'status', status: 429, times: 1 }] }),
    });
    expect(JSON.parse(set.text)).toEqual({ faults: [{ kind: 'status', status: 429, times: 1 }] });
    expect((await post(mock.url, '/v1/completions', completionBody())).status).toBe(429);
    await send(`${mock.url}/_mock/faults`, { body: JSON.stringify({ kind: 'hang' }) });
    expect(JSON.parse((await send(`${mock.url}/_mock/faults`)).text)).toEqual({ faults: [{ kind: 'hang' }] });
    await send(`${mock.url}/_mock/faults`, { method: 'DELETE' });
    expect(mock.faults).toEqual([]);
    const bad = await send(`${mock.url}/_mock/faults`, { body: JSON.stringify({ kind: 'nope' }) });
    expect(bad.status).toBe(400);
  });

  it('POST /_mock/reset clears received requests and faults', async () => {
    await post(mock.url, '/v1/completions', completionBody());
    await mock.setFaults({ kind: 'stall', ms: 1 });
    await send(`${mock.url}/_mock/reset`, { method: 'POST' });
    expect(mock.received).toHaveLength(0);
    expect(mock.faults).toEqual([]);
  });

  it('setFaults rejects invalid specs with PD_ERR_MOCK_FAULT_INVALID', async () => {
    await expect(mock.setFaults({ kind: 'status', status: 200 } as never)).rejects.toMatchObject({
      code: 'PD_ERR_MOCK_FAULT_INVALID',
    });
    await expect(mock.setFaults({ kind: 'refuse', times: 2 })).rejects.toBeInstanceOf(MockVllmError);
    await expect(mock.setFaults({ kind: 'body', status: 200 } as never)).rejects.toMatchObject({
      code: 'PD_ERR_MOCK_FAULT_INVALID',
    });
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
