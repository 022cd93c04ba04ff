import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockVllm, type MockVllm, vllmErrorBody } from '../src/index.js';
import { chatBody, completionBody, post, send, sseData } from './helpers.js';

let mock: MockVllm;

beforeAll(async () => {
  mock = await createMockVllm({ role: 'both', model: 'mock-model' });
});
afterAll(async () => {
  await mock.close();
});

describe('info routes', () => {
  it('GET /health answers 200 with an empty body', async () => {
    const r = await send(`${mock.url}/health`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(r.headers['content-length']).toBe('0');
  });

  it('GET /version names a vLLM version marked as the mock', async () => {
    const r = await send(`${mock.url}/version`);
    expect(JSON.parse(r.text)).toEqual({ version: '0.11.0+mock' });
  });

  it('GET /load reports server_load', async () => {
    const r = await send(`${mock.url}/load`);
    expect(JSON.parse(r.text)).toEqual({ server_load: 0 });
  });

  it('GET /v1/models lists the served model as a vLLM ModelCard', async () => {
    const r = await send(`${mock.url}/v1/models`);
    const body = JSON.parse(r.text);
    expect(body.object).toBe('list');
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({
      id: 'mock-model',
      object: 'model',
      owned_by: 'vllm',
      max_model_len: 32768,
    });
  });

  it('GET /metrics has vLLM names with model_name labels, counting tokens', async () => {
    await post(mock.url, '/v1/completions', completionBody({ max_tokens: 3 }));
    const r = await send(`${mock.url}/metrics`);
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.text).toContain('# TYPE vllm:num_requests_running gauge');
    expect(r.text).toContain('vllm:num_requests_running{engine="0",model_name="mock-model"} 0.0');
    expect(r.text).toContain('vllm:num_requests_waiting{engine="0",model_name="mock-model"} 0.0');
    expect(r.text).toMatch(/vllm:prompt_tokens_total\{engine="0",model_name="mock-model"\} [1-9]\d*\.0/);
    expect(r.text).toMatch(/vllm:generation_tokens_total\{engine="0",model_name="mock-model"\} [1-9]\d*\.0/);
    expect(r.text).toMatch(/vllm:request_success_total\{.*finished_reason="length"\} [1-9]/);
  });

  it('unknown paths get FastAPI 404, wrong methods 405', async () => {
    expect(await send(`${mock.url}/nope`)).toMatchObject({ status: 404, text: '{"detail":"Not Found"}' });
    expect(await send(`${mock.url}/v1/completions`)).toMatchObject({
      status: 405,
      text: '{"detail":"Method Not Allowed"}',
    });
  });
});

describe('POST /v1/completions', () => {
  it('answers vLLM JSON with cmpl-{X-Request-Id} and max_tokens tokens', async () => {
    const r = await post(mock.url, '/v1/completions', completionBody(), { 'x-request-id': 'req-1' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r.text);
    expect(Object.keys(body)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'service_tier',
      'system_fingerprint',
      'usage',
      'kv_transfer_params',
    ]);
    expect(body).toMatchObject({ id: 'cmpl-req-1', object: 'text_completion', model: 'mock-model' });
    expect(body.choices).toEqual([
      {
        index: 0,
        text: ' tok0 tok1 tok2 tok3',
        logprobs: null,
        finish_reason: 'length',
        stop_reason: null,
        prompt_logprobs: null,
      },
    ]);
    // "The capital of France is" = 24 chars -> 6 estimated tokens.
    expect(body.usage).toEqual({
      prompt_tokens: 6,
      total_tokens: 10,
      completion_tokens: 4,
      prompt_tokens_details: null,
    });
  });

  it('uses the body request_id without a header, else a random hex uuid', async () => {
    const a = JSON.parse(
      (await post(mock.url, '/v1/completions', completionBody({ request_id: 'body-id' }))).text,
    );
    expect(a.id).toBe('cmpl-body-id');
    const b = JSON.parse((await post(mock.url, '/v1/completions', completionBody())).text);
    expect(b.id).toMatch(/^cmpl-[0-9a-f]{32}$/);
  });

  it('defaults to 16 tokens, counts token-id prompts, echoes, and fans out batches and n', async () => {
    const d = JSON.parse((await post(mock.url, '/v1/completions', { prompt: 'hi' })).text);
    expect(d.usage.completion_tokens).toBe(16);
    expect(d.choices[0].finish_reason).toBe('length');
    const ids = JSON.parse(
      (await post(mock.url, '/v1/completions', { prompt: [1, 2, 3, 4, 5], max_tokens: 1 })).text,
    );
    expect(ids.usage.prompt_tokens).toBe(5);
    const echo = JSON.parse(
      (await post(mock.url, '/v1/completions', completionBody({ echo: true, max_tokens: 1 }))).text,
    );
    expect(echo.choices[0].text).toBe('The capital of France is tok0');
    const batch = JSON.parse(
      (await post(mock.url, '/v1/completions', { prompt: ['abcd', 'efghijkl'], n: 2, max_tokens: 2 })).text,
    );
    expect(batch.choices.map((c: { index: number }) => c.index)).toEqual([0, 1, 2, 3]);
    expect(batch.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 8 });
  });

  it('streams SSE chunks, a finish_reason on the last token, usage when asked, then [DONE]', async () => {
    const r = await post(
      mock.url,
      '/v1/completions',
      completionBody({ max_tokens: 3, stream: true, stream_options: { include_usage: true } }),
      { 'x-request-id': 's1' },
    );
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const data = sseData(r.text);
    expect(data).toHaveLength(5);
    const chunks = data.slice(0, 4).map((d) => JSON.parse(d));
    expect(chunks[0]).toEqual({
      id: 'cmpl-s1',
      object: 'text_completion',
      created: chunks[0].created,
      model: 'mock-model',
      choices: [{ index: 0, text: ' tok0', logprobs: null, finish_reason: null, stop_reason: null }],
    });
    expect(chunks[2].choices[0]).toMatchObject({ text: ' tok2', finish_reason: 'length' });
    expect(chunks[3]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 6, completion_tokens: 3, total_tokens: 9 },
    });
    expect(data[4]).toBe('[DONE]');
  });

  it('adds usage to every chunk with continuous_usage_stats', async () => {
    const r = await post(
      mock.url,
      '/v1/completions',
      completionBody({ max_tokens: 2, stream: true, stream_options: { continuous_usage_stats: true } }),
    );
    const chunks = sseData(r.text)
      .slice(0, 2)
      .map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.usage.completion_tokens)).toEqual([1, 2]);
  });
});

describe('POST /v1/chat/completions', () => {
  it('answers vLLM chat JSON with chatcmpl-{X-Request-Id}', async () => {
    const r = await post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 2 }), {
      'x-request-id': 'c1',
    });
    const body = JSON.parse(r.text);
    expect(body).toMatchObject({ id: 'chatcmpl-c1', object: 'chat.completion', model: 'mock-model' });
    expect(body.choices[0]).toMatchObject({
      index: 0,
      message: { role: 'assistant', content: ' tok0 tok1', tool_calls: [] },
      finish_reason: 'length',
      stop_reason: null,
    });
    expect(body.usage.completion_tokens).toBe(2);
  });

  it('prefers max_completion_tokens and ends with stop when no limit is set', async () => {
    const a = JSON.parse(
      (await post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 9, max_completion_tokens: 1 })))
        .text,
    );
    expect(a.usage.completion_tokens).toBe(1);
    const { max_tokens: _, ...noLimit } = chatBody();
    const b = JSON.parse((await post(mock.url, '/v1/chat/completions', noLimit)).text);
    expect(b.choices[0].finish_reason).toBe('stop');
    expect(b.usage.completion_tokens).toBe(16);
  });

  it('streams a role chunk, content deltas, the finish chunk and [DONE]', async () => {
    const r = await post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 2, stream: true }), {
      'x-request-id': 'cs',
    });
    const data = sseData(r.text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0].delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: ' tok0' },
      { content: ' tok1' },
    ]);
    expect(chunks.every((c) => c.id === 'chatcmpl-cs' && c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[2].choices[0]).toMatchObject({ finish_reason: 'length', stop_reason: null });
  });
});

describe('request validation (vLLM 400 bodies)', () => {
  const cases: [string, string, unknown, string | null][] = [
    ['chat without messages', '/v1/chat/completions', { model: 'm' }, 'messages'],
    ['max_tokens not an integer', '/v1/completions', completionBody({ max_tokens: 'a' }), 'max_tokens'],
    ['max_tokens 0', '/v1/completions', completionBody({ max_tokens: 0 }), 'max_tokens'],
    ['stream not a boolean', '/v1/chat/completions', chatBody({ stream: 3 }), 'stream'],
    ['n below 1', '/v1/chat/completions', chatBody({ n: 0 }), 'n'],
    ['n above the mock cap', '/v1/completions', completionBody({ n: 129 }), 'n'],
    ['completion without prompt', '/v1/completions', { model: 'm' }, 'prompt'],
    [
      'stream_options without stream',
      '/v1/completions',
      completionBody({ stream_options: {} }),
      'stream_options',
    ],
    ['a JSON array body', '/v1/completions', [1], null],
  ];
  for (const [name, path, body, param] of cases) {
    it(`rejects ${name}`, async () => {
      const r = await post(mock.url, path, body);
      expect(r.status).toBe(400);
      const parsed = JSON.parse(r.text);
      expect(parsed.error).toMatchObject({ type: 'BadRequestError', code: 400, param });
      expect(typeof parsed.error.message).toBe('string');
    });
  }

  it('rejects an infinite n (the router forwards Python 1e400 as Infinity) instead of crashing', async () => {
    const r = await send(`${mock.url}/v1/completions`, {
      body: '{"model": "mock-model", "prompt": "hi", "max_tokens": 2, "n": Infinity}',
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ code: 400, param: 'n' });
    const again = await post(mock.url, '/v1/completions', completionBody({ max_tokens: 2 }));
    expect(again.status).toBe(200);
  });

  it('rejects invalid JSON and non-JSON content types', async () => {
    const bad = await send(`${mock.url}/v1/completions`, { body: '{"prompt": ' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual(vllmErrorBody(400, '1 validation error: body: JSON decode error'));
    const text = await send(`${mock.url}/v1/completions`, {
      body: '{"prompt":"x"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(400);
    expect(JSON.parse(text.text).error.message).toContain('application/json');
  });

  it('accepts NaN and Infinity tokens that Python json.loads accepts', async () => {
    const r = await send(`${mock.url}/v1/completions`, {
      body: '{"prompt": "x", "max_tokens": 1, "temperature": NaN, "top_p": Infinity}',
    });
    expect(r.status).toBe(200);
  });

  it('keeps unknown fields allowed and accepts a charset in the content type', async () => {
    const r = await send(`${mock.url}/v1/chat/completions`, {
      body: JSON.stringify(chatBody({ some_vendor_field: { a: 1 } })),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(r.status).toBe(200);
  });

  it("answers vLLM's context-length 400 past max_model_len", async () => {
    const r = await post(mock.url, '/v1/completions', completionBody({ max_tokens: 40_000 }));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.message).toContain('maximum context length is 32768 tokens');
  });
});

describe('api key and model checks', () => {
  it('requires the bearer key on /v1 routes only, and 404s other models when strict', async () => {
    const strict = await createMockVllm({ apiKey: 'k', strictModel: true, model: 'served' });
    try {
      expect((await send(`${strict.url}/v1/models`)).status).toBe(401);
      expect((await send(`${strict.url}/health`)).status).toBe(200);
      const denied = await post(strict.url, '/v1/completions', completionBody());
      expect(denied).toMatchObject({ status: 401, text: '{"error":"Unauthorized"}' });
      const auth = { authorization: 'Bearer k' };
      const other = await post(strict.url, '/v1/completions', completionBody({ model: 'other' }), auth);
      expect(other.status).toBe(404);
      expect(JSON.parse(other.text).error).toMatchObject({ type: 'NotFoundError', code: 404 });
      const ok = await post(strict.url, '/v1/completions', completionBody({ model: 'served' }), auth);
      expect(ok.status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('recording', () => {
  it('keeps every completion request with raw headers, body bytes and outcome', async () => {
    const before = mock.received.length;
    const body = JSON.stringify(completionBody({ max_tokens: 1 }));
    await send(`${mock.url}/v1/completions?x=1`, { body, headers: { 'X-Request-Id': 'rec-1' } });
    const entry = mock.received[before];
    expect(entry).toBeDefined();
    expect(entry?.path).toBe('/v1/completions?x=1');
    expect(entry?.body.toString()).toBe(body);
    expect(entry?.requestId).toBe('rec-1');
    expect(entry?.rawHeaders).toContain('X-Request-Id');
    expect(entry?.status).toBe(200);
    expect(entry?.outcome).toBe('completed');
    const summary = JSON.parse((await send(`${mock.url}/_mock/received`)).text);
    expect(summary.count).toBe(mock.received.length);
    expect(summary.requests.at(-1)).toMatchObject({ requestId: 'rec-1', body, status: 200 });
  });
});
