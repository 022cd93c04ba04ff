import { Agent, request } from 'undici';
import { type TraceRequest, tracePrompt } from './trace.js';

/** What the client saw of one replayed request, in wall milliseconds from the replay's start. */
export interface RequestOutcome {
  readonly sentAtMs: number;
  /** Undefined when no token arrived. */
  readonly ttftMs: number | undefined;
  readonly e2eMs: number | undefined;
  readonly tokens: number;
  /** Undefined on success; else a short reason (HTTP status, stream error, exception). */
  readonly error: string | undefined;
}

export interface ClientOptions {
  readonly origin: string;
  readonly model: string;
  /** Wall ms from the replay's start to send each request: its timestamp / speedup. */
  readonly speedup: number;
  readonly requestTimeoutMs: number;
}

const DATA_PREFIX = 'data: ';

/**
 * Replays the requests at their (scaled) arrival times, open loop: a request is sent at its time
 * whether or not earlier ones have finished. Streams each answer and times its first and last
 * token. Resolves when every request has finished or failed.
 */
export async function replayRequests(
  trace: readonly TraceRequest[],
  options: ClientOptions,
  onDone?: (finished: number) => void,
): Promise<RequestOutcome[]> {
  const agent = new Agent({
    connections: null,
    pipelining: 0,
    keepAliveTimeout: 30_000,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });
  const start = performance.now();
  let finished = 0;
  try {
    const runs = trace.map(async (r): Promise<RequestOutcome> => {
      const due = r.timestamp / options.speedup;
      const wait = due - (performance.now() - start);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Built at send time: thousands of prompts of 100 KB held at once would be gigabytes.
      const body = JSON.stringify({
        model: options.model,
        prompt: tracePrompt(r),
        max_tokens: r.outputLength,
        ignore_eos: true,
        stream: true,
      });
      const outcome = await sendOne(agent, options, body, start);
      finished++;
      onDone?.(finished);
      return outcome;
    });
    return await Promise.all(runs);
  } finally {
    await agent.close();
  }
}

async function sendOne(agent: Agent, o: ClientOptions, body: string, start: number): Promise<RequestOutcome> {
  const sentAtMs = performance.now() - start;
  let ttftMs: number | undefined;
  let tokens = 0;
  try {
    const res = await request(`${o.origin}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      dispatcher: agent,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { sentAtMs, ttftMs, e2eMs: undefined, tokens, error: `HTTP ${res.statusCode}` };
    }
    let rest = '';
    let streamError: string | undefined;
    for await (const chunk of res.body) {
      rest += (chunk as Buffer).toString('utf8');
      let end = rest.indexOf('\n\n');
      while (end !== -1) {
        const frame = rest.slice(0, end);
        rest = rest.slice(end + 2);
        end = rest.indexOf('\n\n');
        if (!frame.startsWith(DATA_PREFIX) || frame === 'data: [DONE]') continue;
        // A token event carries a choice with text; an error event carries "error".
        if (frame.includes('"error"')) streamError = 'stream error';
        else if (frame.includes('"text"')) {
          tokens++;
          ttftMs ??= performance.now() - start - sentAtMs;
        }
      }
    }
    const e2eMs = performance.now() - start - sentAtMs;
    return {
      sentAtMs,
      ttftMs,
      e2eMs,
      tokens,
      error: streamError ?? (tokens === 0 ? 'no tokens' : undefined),
    };
  } catch (error) {
    return { sentAtMs, ttftMs, e2eMs: undefined, tokens, error: (error as Error).message };
  }
}
