import { http } from 'msw';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDecodeServer,
  createMockVllm,
  createMswHandlers,
  createPrefillServer,
  type MockVllm,
} from '../src/index.js';
import { p2pId } from './helpers.js';

const messages = [{ role: 'user' as const, content: 'Say hello' }];

async function exercise(client: OpenAI): Promise<void> {
  const chat = await client.chat.completions.create({ model: 'mock-model', messages, max_tokens: 3 });
  expect(chat.choices[0]?.message.content).toBe(' tok0 tok1 tok2');
  expect(chat.usage?.completion_tokens).toBe(3);

  const stream = await client.chat.completions.create({
    model: 'mock-model',
    messages,
    max_tokens: 3,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null | undefined;
  let usage: number | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage?.completion_tokens ?? usage;
  }
  expect(text).toBe(' tok0 tok1 tok2');
  expect(finish).toBe('length');
  expect(usage).toBe(3);

  const completion = await client.completions.create({ model: 'mock-model', prompt: 'Hello', max_tokens: 2 });
  expect(completion.choices[0]?.text).toBe(' tok0 tok1');

  const cstream = await client.completions.create({
    model: 'mock-model',
    prompt: 'Hello',
    max_tokens: 2,
    stream: true,
  });
  let ctext = '';
  for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? '';
  expect(ctext).toBe(' tok0 tok1');

  const models = await client.models.list();
  expect(models.data[0]?.id).toBe('mock-model');
}

describe('the official openai client against the HTTP servers', () => {
  it("consumes JSON and streams of both routes from a standalone ('both') instance", async () => {
    const mock = await createMockVllm({ role: 'both' });
    try {
      await exercise(new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'x', maxRetries: 0 }));
    } finally {
      await mock.close();
    }
  });

  it('consumes a decode instance after the prefill ran with the same X-Request-Id', async () => {
    const prefill = await createPrefillServer();
    const decode = await createDecodeServer({ kvWaitTimeoutMs: 5_000 });
    try {
      for (const stream of [false, true]) {
        const id = p2pId(prefill.kvAddress, decode.kvAddress);
        const options = { apiKey: 'x', maxRetries: 0, defaultHeaders: { 'X-Request-Id': id } };
        const p = new OpenAI({ baseURL: `${prefill.url}/v1`, ...options });
        const d = new OpenAI({ baseURL: `${decode.url}/v1`, ...options });
        await p.chat.completions.create({ model: 'mock-model', messages, max_tokens: 1 });
        if (stream) {
          const s = await d.chat.completions.create({
            model: 'mock-model',
            messages,
            max_tokens: 2,
            stream: true,
          });
          let text = '';
          for await (const chunk of s) {
            expect(chunk.id).toBe(`chatcmpl-${id}`);
            text += chunk.choices[0]?.delta.content ?? '';
          }
          expect(text).toBe(' tok0 tok1');
        } else {
          const c = await d.chat.completions.create({ model: 'mock-model', messages, max_tokens: 2 });
          expect(c.id).toBe(`chatcmpl-${id}`);
        }
      }
    } finally {
      await Promise.all([prefill.close(), decode.close()]);
    }
  });

  it('surfaces vLLM error bodies as OpenAI APIError', async () => {
    const mock: MockVllm = await createMockVllm({
      faults: [{ kind: 'status', status: 429, message: 'slow down' }],
    });
    try {
      const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'x', maxRetries: 0 });
      await expect(client.chat.completions.create({ model: 'm', messages })).rejects.toMatchObject({
        status: 429,
        message: expect.stringContaining('slow down'),
      });
    } finally {
      await mock.close();
    }
  });
});

describe('the official openai client against the msw handlers (no sockets)', () => {
  const server = setupServer(...createMswHandlers({ http, baseUrl: 'http://vllm.test' }));
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());

  it('consumes JSON and streams of both routes', async () => {
    await exercise(new OpenAI({ baseURL: 'http://vllm.test/v1', apiKey: 'x', maxRetries: 0 }));
  });

  it('answers the same validation errors', async () => {
    const client = new OpenAI({ baseURL: 'http://vllm.test/v1', apiKey: 'x', maxRetries: 0 });
    await expect(
      client.completions.create({ model: 'mock-model', prompt: 'x', max_tokens: 0 }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
