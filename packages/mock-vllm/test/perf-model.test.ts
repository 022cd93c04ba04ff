import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/cli-args.js';
import { createMockVllm } from '../src/index.js';
import { post, send, sseData } from './helpers.js';

function sample(metrics: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'm').exec(metrics);
  return Number(m?.[1]);
}

const prompt = (n: number, tag: string): string =>
  Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

describe('performance model over HTTP (--model-profile)', () => {
  it('counts words as tokens, streams every token, and reports prefix-cache and TTFT metrics', async () => {
    const mock = await createMockVllm({ modelProfile: 'llama-3.1-8b-h100', timeScale: 50 });
    try {
      const body = {
        model: 'mock-model',
        prompt: prompt(640, 'w'),
        max_tokens: 6,
        stream: true,
        stream_options: { include_usage: true },
      };
      const first = await post(mock.url, '/v1/completions', body);
      expect(first.status).toBe(200);
      const frames = sseData(first.text);
      expect(frames.at(-1)).toBe('[DONE]');
      const usage = JSON.parse(frames.at(-2) as string).usage;
      expect(usage).toEqual({ prompt_tokens: 640, completion_tokens: 6, total_tokens: 646 });
      // Same first 320 words, then different: 20 blocks of 16 shared.
      const second = await post(mock.url, '/v1/completions', {
        ...body,
        prompt: `${prompt(320, 'w')} ${prompt(320, 'x')}`,
      });
      expect(second.status).toBe(200);
      const metrics = (await send(`${mock.url}/metrics`)).text;
      expect(sample(metrics, 'vllm:prefix_cache_queries_total')).toBe(1280);
      expect(sample(metrics, 'vllm:prefix_cache_hits_total')).toBe(320);
      expect(sample(metrics, 'vllm:time_to_first_token_seconds_count')).toBe(2);
      expect(sample(metrics, 'vllm:num_requests_running')).toBe(0);
      expect(sample(metrics, 'vllm:kv_cache_usage_perc')).toBe(0);
      expect(metrics).toContain(
        'vllm:time_to_first_token_seconds_bucket{engine="0",model_name="mock-model",le="+Inf"} 2.0',
      );
    } finally {
      await mock.close();
    }
  });

  it('non-streaming answers wait for the whole generation; the context window follows the profile', async () => {
    const mock = await createMockVllm({ modelProfile: 'llama-3.1-8b-h100', timeScale: 50 });
    try {
      const r = await post(mock.url, '/v1/chat/completions', {
        model: 'mock-model',
        messages: [{ role: 'user', content: prompt(40_000, 'c') }],
        max_tokens: 3,
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text).usage).toMatchObject({
        prompt_tokens: 40_000,
        completion_tokens: 3,
        total_tokens: 40_003,
      });
    } finally {
      await mock.close();
    }
  });

  it('parses its flags and refuses an unknown profile', async () => {
    expect(
      parseCliArgs(['--model-profile', 'llama-3.1-8b-h100', '--time-scale=4', '--kv-cache-tokens', '4096']),
    ).toEqual({
      kind: 'run',
      options: { modelProfile: 'llama-3.1-8b-h100', timeScale: 4, kvCacheTokens: 4096 },
    });
    expect(() => parseCliArgs(['--model-profile', 'gpt-9'])).toThrow(/must be one of llama-3.1-8b-h100/);
    await expect(createMockVllm({ timeScale: 2 })).rejects.toThrow(/need modelProfile/);
  });
});
