import { SseParser } from '@pd-router/core';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientView } from '../src/client-view.js';
import { startTappedCluster, type TappedCluster } from '../src/mock-cluster.js';
import { type RouterProcess, startRouter } from '../src/router-process.js';
import { REPO_ROOT, ROUTER_CLI, requireBuilt } from './helpers.js';

// The official client against the built router over a real mock cluster (P2P NCCL KV hand-off over
// ZeroMQ): what it parses must be exactly what the decode instance answered, which the tap in
// front of the decode recorded byte for byte.
/** Every chunk of a stream, in order. */
async function collect(stream: AsyncIterable<unknown>): Promise<unknown[]> {
  const chunks: unknown[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('openai npm client through pd-router', () => {
  let cluster: TappedCluster | undefined;
  let router: RouterProcess | undefined;
  let client: OpenAI;

  beforeAll(async () => {
    requireBuilt();
    cluster = await startTappedCluster({ prefill: 1, decode: 1, connector: 'p2p-nccl' });
    router = await startRouter({
      command: [process.execPath, ROUTER_CLI],
      flags: ['--vllm-pd-disaggregation', '--policy', 'round_robin', ...cluster.workerFlags],
      apiKey: null,
      cwd: REPO_ROOT,
    });
    client = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'x', maxRetries: 0, timeout: 20_000 });
  });

  afterAll(async () => {
    await router?.stop();
    await cluster?.close();
  });

  /** The decode's answer to the one client request made by `act`, as it went through its tap. */
  async function decodeAnswerOf<T>(
    act: () => Promise<T>,
  ): Promise<{ result: T; body: string; type: string }> {
    const tap = cluster?.decode[0]?.tap;
    if (tap === undefined) throw new Error('no decode tap');
    const before = tap.exchanges.length;
    const result = await act();
    // The router's own GET /health (start-up wait, health checks) may reach the decode meanwhile.
    const seen = tap.exchanges.slice(before).filter((e) => e.method !== 'GET');
    expect(seen).toHaveLength(1);
    const response = seen[0]?.response;
    if (response === undefined) throw new Error('the decode answer was not seen complete');
    expect(response.status).toBe(200);
    // The client gets vLLM's answer with its P2P NCCL id shortened (docs/wire-contract.md, Answer ids).
    const body = clientView(response.body, seen[0]?.requestId).toString('utf8');
    expect(body).not.toContain('___prefill_addr_');
    return { result, body, type: response.contentType ?? '' };
  }

  /** The JSON payloads of an SSE body, `[DONE]` excluded (the client consumes it, never yields it). */
  function sseJson(body: string): unknown[] {
    const parser = new SseParser();
    const events = [...parser.push(body), ...parser.end()];
    expect(events.at(-1)?.data).toBe('[DONE]');
    return events.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as unknown);
  }

  it('chat completion, JSON', async () => {
    const { result, body, type } = await decodeAnswerOf(() =>
      client.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'What is the capital of France?' }],
        max_tokens: 8,
      }),
    );
    expect(type).toMatch(/^application\/json/);
    expect(result).toStrictEqual(JSON.parse(body));
    expect(result.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('chat completion, streamed with include_usage', async () => {
    const { result, body, type } = await decodeAnswerOf(async () =>
      collect(
        await client.chat.completions.create({
          model: 'mock-model',
          messages: [{ role: 'user', content: 'Count to five.' }],
          max_tokens: 6,
          stream: true,
          stream_options: { include_usage: true },
        }),
      ),
    );
    expect(type).toMatch(/^text\/event-stream/);
    const expected = sseJson(body);
    expect(result).toStrictEqual(expected);
    const last = result.at(-1) as OpenAI.Chat.ChatCompletionChunk;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('completion, JSON', async () => {
    const { result, body, type } = await decodeAnswerOf(() =>
      client.completions.create({ model: 'mock-model', prompt: 'The capital of France is', max_tokens: 8 }),
    );
    expect(type).toMatch(/^application\/json/);
    expect(result).toStrictEqual(JSON.parse(body));
    expect(result.choices[0]?.text.length).toBeGreaterThan(0);
  });

  it('completion, streamed with include_usage', async () => {
    const { result, body, type } = await decodeAnswerOf(async () =>
      collect(
        await client.completions.create({
          model: 'mock-model',
          prompt: 'Once upon a time',
          max_tokens: 6,
          stream: true,
          stream_options: { include_usage: true },
        }),
      ),
    );
    expect(type).toMatch(/^text\/event-stream/);
    expect(result).toStrictEqual(sseJson(body));
    const last = result.at(-1) as OpenAI.Completion;
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
  });
});
