import { describe, expect, it } from 'vitest';
import { createMockVllm, TIMING_PRESETS } from '../src/index.js';
import { agent, chatBody, post, send } from './helpers.js';

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function gauge(metrics: string, name: string): number {
  const m = new RegExp(`^${name}\\{[^}]*\\} ([0-9.]+)$`, 'm').exec(metrics);
  return Number(m?.[1]);
}

describe('timing', () => {
  it('waits ttft before the first token and inter-token latency between tokens', async () => {
    // A ttft far above any event-loop stall seen on a loaded CI machine, so that "the headers come
    // at once" can be told apart from "the headers come with the first token".
    const mock = await createMockVllm({ timing: { ttftBaseMs: 1_500, interTokenMs: 40 } });
    try {
      const started = Date.now();
      const res = await agent.request({
        origin: mock.url,
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chatBody({ stream: true, max_tokens: 5 })),
      });
      const headersAt = Date.now() - started;
      const times: number[] = [];
      for await (const _ of res.body) times.push(Date.now() - started);
      // Headers go out at once (as Starlette's StreamingResponse does); tokens follow the timing.
      expect(headersAt).toBeLessThan(1_000);
      expect(times[0]).toBeGreaterThanOrEqual(1_450);
      // Lower bounds only: a starved client may read several tokens in one chunk, but the mock's
      // sleeps can only be late, never early.
      expect(times.at(-1)).toBeGreaterThanOrEqual(1_500 + 4 * 40 - 20);
      const record = mock.received.at(-1);
      expect((record?.completedAt ?? 0) - (record?.receivedAt ?? 0)).toBeGreaterThanOrEqual(
        1_500 + 4 * 40 - 20,
      );
    } finally {
      await mock.close();
    }
  });

  it('charges prefill cost per prompt token', async () => {
    const mock = await createMockVllm({ timing: { ttftPerPromptTokenMs: 1 } });
    try {
      const started = Date.now();
      await post(mock.url, '/v1/completions', {
        prompt: Array.from({ length: 300 }, () => 1),
        max_tokens: 1,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    } finally {
      await mock.close();
    }
  });

  it('queues beyond maxConcurrency, visible in /metrics and /load', async () => {
    // Each request runs for a second: the state polled below lasts that long, longer than an
    // event-loop stall on a loaded machine.
    const mock = await createMockVllm({ timing: { maxConcurrency: 1, interTokenMs: 1_000 } });
    try {
      const pending = [1, 2, 3].map(() =>
        post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 2 })),
      );
      await until(() => mock.running === 1 && mock.waiting === 2);
      const metrics = (await send(`${mock.url}/metrics`)).text;
      expect(gauge(metrics, 'vllm:num_requests_running')).toBe(1);
      expect(gauge(metrics, 'vllm:num_requests_waiting')).toBe(2);
      expect(JSON.parse((await send(`${mock.url}/load`)).text)).toEqual({ server_load: 3 });
      const replies = await Promise.all(pending);
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(mock.running).toBe(0);
      expect(mock.waiting).toBe(0);
    } finally {
      await mock.close();
    }
  });

  it('answers 503 past maxQueue', async () => {
    // The first request runs for two seconds, so the queue is still full when the third arrives.
    const mock = await createMockVllm({ timing: { maxConcurrency: 1, maxQueue: 1, interTokenMs: 2_000 } });
    try {
      const first = post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 2 }));
      await until(() => mock.running === 1);
      const second = post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 1 }));
      await until(() => mock.waiting === 1);
      const third = await post(mock.url, '/v1/chat/completions', chatBody({ max_tokens: 1 }));
      expect(third.status).toBe(503);
      expect(JSON.parse(third.text).error.type).toBe('ServiceUnavailableError');
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
    } finally {
      await mock.close();
    }
  });

  it('has named presets, with per-field overrides', async () => {
    expect(TIMING_PRESETS.instant.interTokenMs).toBe(0);
    expect(TIMING_PRESETS.realistic).toMatchObject({ ttftBaseMs: 20, interTokenMs: 10, maxConcurrency: 64 });
    const mock = await createMockVllm({ preset: 'realistic', timing: { interTokenMs: 1 } });
    try {
      const state = JSON.parse((await send(`${mock.url}/_mock/state`)).text);
      expect(state.timing).toMatchObject({ ttftBaseMs: 20, interTokenMs: 1, maxConcurrency: 64 });
    } finally {
      await mock.close();
    }
  });
});
