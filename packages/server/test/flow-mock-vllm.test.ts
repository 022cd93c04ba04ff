import { canonicalize, prefillBody } from '@pd-router/core';
import OpenAI from 'openai';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { startRouter, testConfig } from './helpers.js';
import { mockVllmPairForFile } from './mock-vllm-pair.js';

const pair = mockVllmPairForFile();

beforeEach(async () => {
  await Promise.all([pair.prefill.reset(), pair.decode.reset()]);
});

function post(path: string, body: string) {
  return request(`${pair.router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

describe('against mock-vllm (real P2P NCCL hand-off over ZeroMQ)', () => {
  it('completes a request: P gets the prefill body, D the canonical body, one id; the KV arrives', async () => {
    const body = '{"model":"mock-model","prompt":"San Francisco is a","max_tokens":3}';
    const res = await post('/v1/completions', body);
    expect(res.statusCode).toBe(200);
    const json = (await res.body.json()) as { choices: { text: string }[]; id: string };
    expect(json.choices[0]?.text).toBe(' tok0 tok1 tok2');
    const p = pair.prefill.received[0];
    const d = pair.decode.received[0];
    const bytes = new TextEncoder().encode(body);
    expect(p?.body.toString('latin1')).toBe((prefillBody(bytes) as { value: string }).value);
    expect(d?.body.toString('latin1')).toBe((canonicalize(bytes) as { value: string }).value);
    expect(p?.requestId).toBe(d?.requestId);
    expect(p?.requestId).toBe(
      `___prefill_addr_${pair.prefill.kvAddress}___decode_addr_${pair.decode.kvAddress}_${p?.requestId?.slice(-32)}`,
    );
    // vLLM names the answer after the request id; the router keeps only its random part.
    expect(json.id).toBe(`cmpl-${p?.requestId?.slice(-32)}`);
    expect(p?.completedAt).toBeLessThanOrEqual(d?.receivedAt ?? 0);
  });

  it('streams a chat completion as SSE, ending with [DONE]', async () => {
    const res = await post(
      '/v1/chat/completions',
      '{"model": "mock-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": true}',
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const text = await res.body.text();
    const events = text.split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    const content = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.slice('data: '.length)) as { choices: { delta: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe(' tok0 tok1 tok2 tok3');
  });

  it('works with the OpenAI SDK, streaming and not', async () => {
    const client = new OpenAI({ apiKey: 'sk-local', baseURL: `${pair.router.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 2,
    });
    expect(completion.choices[0]?.message.content).toBe(' tok0 tok1');
    const stream = await client.completions.create({
      model: 'mock-model',
      prompt: 'x',
      max_tokens: 3,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(' tok0 tok1 tok2');
  });

  it.each([
    {
      title: 'a prefill 5xx fault: 502 and no decode',
      fault: { status: 500, message: 'engine dead' },
      status: 502,
      retryAfter: undefined,
      type: 'upstream_error',
      code: 'PD_ERR_PREFILL_UPSTREAM_STATUS',
    },
    {
      title: 'a prefill 503 (the only prefill worker): 503 with Retry-After, and no decode (issue #14)',
      fault: { status: 503, message: 'engine overloaded' },
      status: 503,
      retryAfter: '1',
      type: 'service_unavailable',
      code: 'PD_ERR_PREFILL_OVERLOADED',
    },
  ])('$title', async ({ fault, status, retryAfter, type, code }) => {
    await pair.prefill.setFaults({ kind: 'status', ...fault, times: 1 });
    const res = await post('/v1/completions', '{"model": "mock-model", "prompt": "x", "max_tokens": 2}');
    expect(res.statusCode).toBe(status);
    expect(res.headers['retry-after']).toBe(retryAfter);
    expect(await res.body.json()).toEqual({
      error: {
        message: `prefill worker #1 answered HTTP ${fault.status}: ${fault.message}`,
        type,
        param: null,
        code,
      },
    });
    expect(pair.decode.received).toHaveLength(0);
  });

  it('a prefill stream that carries an error event after its 200, or ends without a finish: a coded 502, no decode (issue #14)', async () => {
    const body = '{"model": "mock-model", "prompt": "x", "max_tokens": 2, "stream": true}';
    const streams = [
      [
        'data: {"error": {"message": "engine step failed", "type": "InternalServerError", "param": null, "code": 500}}\n\ndata: [DONE]\n\n',
        'prefill worker #1 ended its stream with an error: engine step failed',
      ],
      [
        // Cut short: no finished choice and no [DONE].
        'data: {"id":"cmpl-1","choices":[{"index":0,"text":" tok0","logprobs":null,"finish_reason":null}]}\n\n',
        'prefill worker #1 ended its stream without finishing',
      ],
    ] as const;
    for (const [stream, message] of streams) {
      await pair.prefill.setFaults({
        kind: 'body',
        contentType: 'text/event-stream',
        body: stream,
        times: 1,
      });
      const res = await post('/v1/completions', body);
      expect(res.statusCode).toBe(502);
      expect(await res.body.json()).toEqual({
        error: { message, type: 'upstream_error', param: null, code: 'PD_ERR_PREFILL_STREAM_ERROR' },
      });
    }
    expect(pair.decode.received).toHaveLength(0);
    const metrics = await (await request(`${pair.router.url}/metrics`)).body.text();
    expect(metrics).toMatch(
      /pd_router_upstream_errors_total\{role="prefill",worker="[^"]+",kind="bad_response"\} 2/,
    );
  });

  it("a prompt too long for the model: the prefill's 400 and vLLM's message, no decode", async () => {
    const prompt = 'x'.repeat(140_000);
    const res = await post(
      '/v1/completions',
      `{"model": "mock-model", "prompt": "${prompt}", "max_tokens": 1}`,
    );
    expect(res.statusCode).toBe(400);
    const json = (await res.body.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('PD_ERR_PREFILL_REJECTED');
    expect(json.error.message).toMatch(/maximum context length/);
    expect(pair.decode.received).toHaveLength(0);
  });

  it("max_tokens beyond the context (only the decode sees it): the decode's 400 is relayed as is", async () => {
    const res = await post('/v1/completions', '{"model": "mock-model", "prompt": "x", "max_tokens": 100000}');
    expect(res.statusCode).toBe(400);
    const json = (await res.body.json()) as { error: { code: number; message: string } };
    expect(json.error.code).toBe(400);
    expect(json.error.message).toMatch(/maximum context length/);
  });

  it('a decode stream reset mid-way: the client gets the events so far and one error event', async () => {
    await pair.decode.setFaults({ kind: 'reset-after', events: 2, times: 1 });
    const res = await post(
      '/v1/completions',
      '{"model": "mock-model", "prompt": "x", "max_tokens": 8, "stream": true}',
    );
    expect(res.statusCode).toBe(200);
    const events = (await res.body.text()).split('\n\n').filter((e) => e !== '');
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]?.slice('data: '.length) ?? '')).toMatchObject({
      error: { code: 'PD_ERR_STREAM_BROKEN', type: 'upstream_error' },
    });
  });

  it('a decode stall longer than the idle budget ends the stream with PD_ERR_STREAM_IDLE', async () => {
    const idleRouter = await startRouter(
      testConfig({
        prefill: [pair.prefill.workerSpec],
        decode: [pair.decode.workerSpec],
        streamIdleTimeoutMs: 300,
      }),
    );
    try {
      await pair.decode.setFaults({ kind: 'stall', ms: 2_000, after: 1, times: 1 });
      const res = await request(`${idleRouter.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model": "mock-model", "prompt": "x", "max_tokens": 4, "stream": true}',
      });
      const events = (await res.body.text()).split('\n\n').filter((e) => e !== '');
      expect(JSON.parse(events.at(-1)?.slice('data: '.length) ?? '')).toMatchObject({
        error: { code: 'PD_ERR_STREAM_IDLE' },
      });
    } finally {
      await idleRouter.close();
    }
  });
});
