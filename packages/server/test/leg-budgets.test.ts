import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SseParser } from '@pd-router/core';
import type { FaultSpec } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/types.js';
import { P2P_KV_HINT } from '../src/routes/exchange.js';
import { e2eKit, type Router, sleep } from './helpers.js';
import { mockVllmWorkersForFile } from './mock-vllm-pair.js';

// The leg budgets against mock-vllm: what each budget bounds, and that none fires before its time.

const mocks = mockVllmWorkersForFile({ decode: { kvWaitTimeoutMs: 10_000 } });
const kit = e2eKit();

function router(overrides: Partial<Config>): Promise<Router> {
  return kit.router({ prefill: [mocks.prefill.workerSpec], decode: [mocks.decode.workerSpec], ...overrides });
}

const STREAM_BODY = '{"model": "mock-model", "prompt": "hi", "max_tokens": 3, "stream": true}';
const JSON_BODY = '{"model": "mock-model", "prompt": "hi", "max_tokens": 3}';

interface Answer {
  readonly status: number;
  readonly text: string;
  readonly elapsedMs: number;
}

async function post(r: Router, body: string): Promise<Answer> {
  const t0 = performance.now();
  const res = await request(`${r.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, elapsedMs: performance.now() - t0 };
}

/** A decode stall of `ms` (after `after` events, when given). */
function stall(ms: number, after?: number): FaultSpec {
  return after === undefined ? { kind: 'stall', ms } : { kind: 'stall', ms, after };
}

/** A router with `budgets` in front of the mock decode with `fault`: its answer to `body`. */
async function postStalled(budgets: Partial<Config>, fault: FaultSpec, body: string): Promise<Answer> {
  const r = await router(budgets);
  await mocks.decode.setFaults([fault]);
  return post(r, body);
}

function sseData(text: string): string[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()].map((e) => e.data);
}

function errorCode(text: string): unknown {
  return (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
}

describe('decode time-to-first-token budget', () => {
  it('a streamed first token later than the idle budget but within the TTFT budget is relayed, not a 504', async () => {
    // vLLM sends SSE headers at once; the first event can wait long in the decode queue. Each
    // budget is seconds away from the stall (and the idle budget from the token gaps): event-loop
    // stalls of a loaded machine must not decide the outcome.
    const budgets = { decodeTtftTimeoutMs: 10_000, streamIdleTimeoutMs: 2_000 };
    const answer = await postStalled(budgets, stall(4_000, 0), STREAM_BODY);
    expect(answer.status, answer.text).toBe(200);
    const events = sseData(answer.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.some((e) => e.includes('PD_ERR_'))).toBe(false);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(4_000);
  }, 30_000);

  it('a non-streamed answer may take up to the TTFT budget to start, however short the idle budget', async () => {
    const budgets = { decodeTtftTimeoutMs: 10_000, streamIdleTimeoutMs: 1_000 };
    const answer = await postStalled(budgets, stall(3_000), JSON_BODY);
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ object: 'text_completion' });
  }, 20_000);

  it('a streamed first token later than the TTFT budget: 504 PD_ERR_DECODE_TIMEOUT naming that budget', async () => {
    const budgets = { decodeTtftTimeoutMs: 800, streamIdleTimeoutMs: 5_000 };
    const answer = await postStalled(budgets, stall(3_000, 0), STREAM_BODY);
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.text)).toEqual({
      error: {
        message: `decode worker #1 sent no first byte within 800 ms; ${P2P_KV_HINT}`,
        type: 'timeout_error',
        param: null,
        code: 'PD_ERR_DECODE_TIMEOUT',
      },
    });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(800 - CLOCK_GRANULARITY_MS);
  }, 20_000);

  it('after the first event, a silence longer than the idle budget ends the stream with PD_ERR_STREAM_IDLE', async () => {
    const budgets = { decodeTtftTimeoutMs: 5_000, streamIdleTimeoutMs: 700 };
    const answer = await postStalled(budgets, stall(3_000, 1), STREAM_BODY);
    expect(answer.status).toBe(200);
    const events = sseData(answer.text);
    expect(events).toHaveLength(2);
    expect(errorCode(events[1] ?? '')).toBe('PD_ERR_STREAM_IDLE');
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(700 - CLOCK_GRANULARITY_MS);
  }, 20_000);
});

/**
 * Node's timers run on libuv's millisecond clock (truncated), so a timer can fire up to 1 ms short
 * of a `performance.now()` difference; anything earlier is a budget firing early.
 */
const CLOCK_GRANULARITY_MS = 1;

/**
 * undici runs headersTimeout/bodyTimeout on "fast timers": one 499 ms tick for the whole process,
 * and a timer counts from the tick before the one that activates it, so a 600 ms undici timeout
 * started shortly before a tick fires ~100 ms early. Each attempt below starts shortly before a
 * tick (found with a 1 ms undici timeout, which fires on a tick) while a hanging request keeps the
 * tick loop running: a budget enforced by undici's timers fails here, the router's own timer doesn't.
 */
describe('leg budgets never fire early', () => {
  let hangServer: Server;
  let hangUrl = '';
  beforeAll(async () => {
    hangServer = createServer(() => {});
    await new Promise<void>((resolve) => hangServer.listen(0, '127.0.0.1', resolve));
    hangUrl = `http://127.0.0.1:${(hangServer.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hangServer.closeAllConnections();
    await new Promise<void>((resolve) => hangServer.close(() => resolve()));
  });

  const cases: {
    readonly role: 'prefill' | 'decode';
    readonly budget: Partial<Config>;
    readonly code: string;
  }[] = [
    { role: 'prefill', budget: { prefillTimeoutMs: 600 }, code: 'PD_ERR_PREFILL_TIMEOUT' },
    { role: 'decode', budget: { decodeTtftTimeoutMs: 600 }, code: 'PD_ERR_DECODE_TIMEOUT' },
  ];
  for (const c of cases) {
    it(`${c.role}: a 600 ms budget against slow headers answers 504 ${c.code}, never before 600 ms`, async () => {
      const r = await router(c.budget);
      const worker = mocks[c.role];
      const fault: FaultSpec = { kind: 'slow-headers', delayMs: 1_500 };
      await worker.setFaults([fault]);
      const keepTicking = new AbortController();
      const background = request(hangUrl, { signal: keepTicking.signal, headersTimeout: 60_000 }).catch(
        () => undefined,
      );
      try {
        for (const delay of [400, 430, 460]) {
          await request(hangUrl, { headersTimeout: 1 }).catch(() => undefined); // returns on a tick
          await sleep(delay);
          const answer = await post(r, JSON_BODY);
          expect(answer.status, answer.text).toBe(504);
          expect(errorCode(answer.text)).toBe(c.code);
          expect(answer.elapsedMs).toBeGreaterThanOrEqual(600 - CLOCK_GRANULARITY_MS);
        }
      } finally {
        keepTicking.abort();
        await background;
      }
    }, 30_000);
  }
});
