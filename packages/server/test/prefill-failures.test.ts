import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  asLogger,
  CaptureLogger,
  e2eKit,
  goesSilent,
  jsonAnswer,
  postCompletion,
  REFUSED_SPEC,
  REFUSED_URL,
  type Router,
  waitFor,
} from './helpers.js';

const kit = e2eKit();

async function post(router: Router): Promise<{ status: number; body: unknown; retryAfter?: unknown }> {
  const res = await postCompletion(router);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const retryAfter = res.headers['retry-after'];
  const answer = { status: res.statusCode, body: await res.body.json() };
  return retryAfter === undefined ? answer : { ...answer, retryAfter };
}

function error(code: string, type: string, message: string, param: string | null = null) {
  return { error: { message, type, param, code } };
}

describe('prefill failures: never a hang, never a decode', () => {
  const unreachable = async () => {
    const d = await kit.worker();
    return { d, router: await kit.router({ prefill: [REFUSED_SPEC], decode: [d.spec()] }) };
  };
  const resets = async () => {
    const { p, d, router } = await kit.pair();
    p.handler = (_req, res) => res.socket?.destroy();
    return { d, router };
  };
  it.each([
    ['connection refused', unreachable, 'could not be reached'],
    ['connection reset before an answer', resets, 'closed the connection'],
  ] as const)('%s: 502 PD_ERR_PREFILL_UNAVAILABLE', async (_name, start, message) => {
    const { d, router } = await start();
    expect(await post(router)).toEqual({
      status: 502,
      body: error('PD_ERR_PREFILL_UNAVAILABLE', 'upstream_error', `prefill worker #1 ${message}`),
    });
    expect(d.received).toHaveLength(0);
  });

  it('reset after the headers, mid-body: 502, no decode', async () => {
    const { p, d, router } = await kit.pair();
    p.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"partial": ');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const { status, body } = await post(router);
    expect(status).toBe(502);
    expect(body).toMatchObject({ error: { code: 'PD_ERR_PREFILL_UNAVAILABLE', type: 'upstream_error' } });
    expect(d.received).toHaveLength(0);
  });

  it('no complete answer within prefillTimeoutMs: 504 PD_ERR_PREFILL_TIMEOUT, the prefill call is aborted', async () => {
    const { p, d, router } = await kit.pair({ prefillTimeoutMs: 300 });
    p.handler = () => {};
    expect(await post(router)).toEqual({
      status: 504,
      body: error(
        'PD_ERR_PREFILL_TIMEOUT',
        'timeout_error',
        'prefill worker #1 did not answer completely within 300 ms',
      ),
    });
    await waitFor(() => p.aborted.length === 1, 15_000, 'the prefill to see the abort');
    expect(d.received).toHaveLength(0);
  });

  it('the timeout covers the body too, not only the headers', async () => {
    const { p, d, router } = await kit.pair({ prefillTimeoutMs: 300 });
    p.handler = goesSilent('data: {"x": 1}\n\n');
    const { status, body } = await post(router);
    expect(status).toBe(504);
    expect(body).toMatchObject({ error: { code: 'PD_ERR_PREFILL_TIMEOUT' } });
    await waitFor(() => p.aborted.length === 1, 15_000, 'the prefill to see the abort');
    expect(d.received).toHaveLength(0);
  });

  it("4xx: that status and vLLM's message and param to the client, no decode", async () => {
    const { p, d, router } = await kit.pair();
    const message = "This model's maximum context length is 16 tokens. However, you requested 60 tokens.";
    p.handler = jsonAnswer({ error: { message, type: 'BadRequestError', param: 'prompt', code: 400 } }, 400);
    expect(await post(router)).toEqual({
      status: 400,
      body: error('PD_ERR_PREFILL_REJECTED', 'invalid_request_error', message, 'prompt'),
    });
    expect(d.received).toHaveLength(0);
  });

  it("4xx in vLLM's older flat shape, and 429, are relayed too (429 with Retry-After: no other worker takes it)", async () => {
    const { p, router } = await kit.pair();
    p.handler = jsonAnswer(
      { object: 'error', message: 'slow down', type: 'RateLimitError', param: null, code: 429 },
      429,
    );
    expect(await post(router)).toEqual({
      status: 429,
      body: error('PD_ERR_PREFILL_REJECTED', 'invalid_request_error', 'slow down'),
      retryAfter: '1',
    });
  });

  it('5xx: 502 carrying the upstream status and message, no decode', async () => {
    const { p, d, router } = await kit.pair();
    p.handler = jsonAnswer(
      { error: { message: 'CUDA out of memory', type: 'InternalServerError', param: null, code: 500 } },
      500,
    );
    expect(await post(router)).toEqual({
      status: 502,
      body: error(
        'PD_ERR_PREFILL_UPSTREAM_STATUS',
        'upstream_error',
        'prefill worker #1 answered HTTP 500: CUDA out of memory',
      ),
    });
    expect(d.received).toHaveLength(0);
  });

  it('reads a gzip-compressed error body; a 503 reaches the client as 503 with Retry-After (issue #14)', async () => {
    const { p, d, router } = await kit.pair();
    p.handler = (_req, res) => {
      const gz = gzipSync(JSON.stringify({ error: { message: 'engine dead', code: 503 } }));
      res.writeHead(503, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'retry-after': '3',
      });
      res.end(gz);
    };
    expect(await post(router)).toEqual({
      status: 503,
      body: error(
        'PD_ERR_PREFILL_OVERLOADED',
        'service_unavailable',
        'prefill worker #1 answered HTTP 503: engine dead',
      ),
      retryAfter: '3',
    });
    expect(d.received).toHaveLength(0);
  });

  it('names internal addresses only at log level debug', async () => {
    const d = await kit.worker();
    const router = await kit.router(
      { prefill: [REFUSED_SPEC], decode: [d.spec()], logLevel: 'debug' },
      { logger: asLogger(new CaptureLogger()) },
    );
    const { body } = await post(router);
    expect(JSON.stringify(body)).toContain(REFUSED_URL);
  });
});
