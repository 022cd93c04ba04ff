import { SseParser } from '@pd-router/core';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { P2P_KV_HINT } from '../src/routes/exchange.js';
import {
  breaksOff,
  e2eKit,
  goesSilent,
  jsonAnswer,
  postCompletion,
  REFUSED_SPEC,
  type Router,
  waitFor,
} from './helpers.js';

const kit = e2eKit();

const STREAM_BODY = '{"model": "m", "prompt": "hi", "max_tokens": 5, "stream": true}';

function error(code: string, type: string, message: string) {
  return { error: { message, type, param: null, code } };
}

/** The SSE events a client's parser sees in `text` (a partial last event is dropped, as the spec says). */
function sseEvents(text: string): string[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()].map((e) => e.data);
}

function codeOf(data: string | undefined): unknown {
  return (JSON.parse(data ?? '') as { error?: { code?: unknown } }).error?.code;
}

async function metricsText(router: Router): Promise<string> {
  const res = await request(`${router.url}/metrics`);
  return res.body.text();
}

describe('decode failures', () => {
  it('connection refused: 502 PD_ERR_DECODE_UNAVAILABLE after the prefill', async () => {
    const p = await kit.worker(jsonAnswer({ prefill: true }));
    const router = await kit.router({ prefill: [p.spec()], decode: [REFUSED_SPEC] });
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual(
      error('PD_ERR_DECODE_UNAVAILABLE', 'upstream_error', 'decode worker #1 could not be reached'),
    );
    expect(p.received).toHaveLength(1);
  });

  it('reset before the first byte: 502 PD_ERR_DECODE_UNAVAILABLE', async () => {
    const { d, router } = await kit.pair();
    d.handler = (_req, res) => res.socket?.destroy();
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(502);
    expect(await res.body.json()).toEqual(
      error('PD_ERR_DECODE_UNAVAILABLE', 'upstream_error', 'decode worker #1 closed the connection'),
    );
  });

  it('no first byte within decodeTtftTimeoutMs: 504 PD_ERR_DECODE_TIMEOUT, the decode call is aborted', async () => {
    const { d, router } = await kit.pair({ decodeTtftTimeoutMs: 300 });
    d.handler = () => {};
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toEqual(
      error(
        'PD_ERR_DECODE_TIMEOUT',
        'timeout_error',
        `decode worker #1 sent no first byte within 300 ms; ${P2P_KV_HINT}`,
      ),
    );
    await waitFor(() => d.aborted.length === 1, 15_000, 'the decode to see the abort');
  });

  it('headers but no body byte within the TTFT budget: still a clean 504', async () => {
    const { d, router } = await kit.pair({ decodeTtftTimeoutMs: 300 });
    d.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
    };
    const res = await postCompletion(router, STREAM_BODY);
    expect(res.statusCode).toBe(504);
    expect(await res.body.json()).toMatchObject({ error: { code: 'PD_ERR_DECODE_TIMEOUT' } });
  });

  it('an HTTP error answer is relayed as is (status, content type, body)', async () => {
    const { d, router } = await kit.pair();
    const body = {
      error: { message: 'KV transfer failed', type: 'InternalServerError', param: null, code: 500 },
    };
    d.handler = jsonAnswer(body, 500);
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toBe('application/json');
    expect(await res.body.json()).toEqual(body);
    expect(await metricsText(router)).toMatch(
      /pd_router_upstream_errors_total\{role="decode",worker="[^"]+",kind="status"\} 1/,
    );
  });

  it('an SSE stream silent for streamIdleTimeoutMs ends with one error event, is closed, logged and counted', async () => {
    const { d, router } = await kit.pair({ streamIdleTimeoutMs: 300 });
    d.handler = goesSilent('data: {"n": 1}\n\n');
    const res = await postCompletion(router, STREAM_BODY);
    expect(res.statusCode).toBe(200);
    const text = await res.body.text();
    const idle = error(
      'PD_ERR_STREAM_IDLE',
      'timeout_error',
      'decode worker #1 sent nothing for 300 ms; the stream was ended',
    );
    expect(text).toBe(`data: {"n": 1}\n\ndata: ${JSON.stringify(idle)}\n\n`);
    await waitFor(() => d.aborted.length === 1, 15_000, 'the decode to see the close');
    expect(await metricsText(router)).toMatch(/kind="stream_idle"\} 1/);
  });

  it('an SSE stream that breaks off mid-way ends with a PD_ERR_STREAM_BROKEN event', async () => {
    const { d, router } = await kit.pair();
    d.handler = breaksOff('data: {"n": 1}\n\n');
    const res = await postCompletion(router, STREAM_BODY);
    const text = await res.body.text();
    const broken = error('PD_ERR_STREAM_BROKEN', 'upstream_error', 'decode worker #1 broke off the stream');
    expect(text).toBe(`data: {"n": 1}\n\ndata: ${JSON.stringify(broken)}\n\n`);
    expect(await metricsText(router)).toMatch(/kind="stream_broken"\} 1/);
  });

  it('a JSON answer that breaks off mid-body breaks the client connection (never a truncated "complete" answer)', async () => {
    const { d, router } = await kit.pair();
    d.handler = breaksOff('{"choices": [', { 'content-type': 'application/json', 'content-length': '100' });
    const res = await postCompletion(router);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('a chunked JSON answer that breaks off also breaks the client connection', async () => {
    const { d, router } = await kit.pair();
    d.handler = breaksOff('{"choices": [', { 'content-type': 'application/json' });
    const res = await postCompletion(router);
    await expect(res.body.text()).rejects.toThrow();
  });
  it('a stream that breaks off mid-event: the error event is an event of its own, not glued to the half event', async () => {
    const { d, router } = await kit.pair();
    d.handler = breaksOff('data: {"a":1}\n\ndata: {"b"');
    const res = await postCompletion(router, STREAM_BODY);
    const text = await res.body.text();
    const events = sseEvents(text);
    expect(events[0]).toBe('{"a":1}');
    // The half event is ended (a client sees broken JSON and drops or reports it), then ours.
    expect(events.at(-1)).toBe(
      JSON.stringify(
        error('PD_ERR_STREAM_BROKEN', 'upstream_error', 'decode worker #1 broke off the stream'),
      ),
    );
    expect(text).toMatch(/^data: \{"a":1\}\n\ndata: \{"b"\n\ndata: \{"error"/);
  });

  it('a stream that goes silent mid-event: the idle error event is an event of its own', async () => {
    const { d, router } = await kit.pair({ streamIdleTimeoutMs: 300 });
    d.handler = goesSilent('data: {"a":1}\n\ndata: {"b": 2}\n');
    const res = await postCompletion(router, STREAM_BODY);
    const events = sseEvents(await res.body.text());
    expect(events[0]).toBe('{"a":1}');
    expect(codeOf(events.at(-1))).toBe('PD_ERR_STREAM_IDLE');
  });

  it('a stream broken off right after a complete CRLF event gets the error event and nothing more', async () => {
    const { d, router } = await kit.pair();
    d.handler = breaksOff('data: {"a":1}\r\n\r\n');
    const res = await postCompletion(router, STREAM_BODY);
    const broken = error('PD_ERR_STREAM_BROKEN', 'upstream_error', 'decode worker #1 broke off the stream');
    expect(await res.body.text()).toBe(`data: {"a":1}\r\n\r\ndata: ${JSON.stringify(broken)}\n\n`);
  });
});
