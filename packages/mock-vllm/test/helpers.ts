import { randomBytes } from 'node:crypto';
import { createRequestId } from '@pd-router/core';
import { Agent, request } from 'undici';

/** A short keep-alive agent, so closed mocks never leave the suite waiting on idle sockets. */
export const agent = new Agent({ keepAliveTimeout: 100, keepAliveMaxTimeout: 100 });

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** Sends a request and reads the whole answer. */
export async function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const headers =
    options.body === undefined
      ? (options.headers ?? {})
      : { 'content-type': 'application/json', ...options.headers };
  const res = await request(url, {
    method: (options.method ?? (options.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
    dispatcher: agent,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** POSTs a JSON body to a completion route. */
export function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return send(`${base}${path}`, { body: JSON.stringify(body), headers });
}

/**
 * Starts a completion on a mock and resolves with `answered` once its answer is read whole, or with
 * the name of the error that ended it (a cut connection, `signal`'s abort).
 */
export function completionOutcome(
  url: string,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<string> {
  return agent
    .request({
      origin: url,
      path: '/v1/completions',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(completionBody()),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    .then(
      async (res) => {
        await res.body.text();
        return 'answered';
      },
      (e: Error) => e.name,
    );
}

/** The `data:` payloads of an SSE body. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

/** A P2P NCCL request id naming these KV addresses, unique per call. */
export function p2pId(prefillKv: string, decodeKv: string): string {
  return createRequestId(prefillKv, decodeKv, randomBytes(16));
}

export const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
  max_tokens: 4,
  ...extra,
});

export const completionBody = (extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  prompt: 'The capital of France is',
  max_tokens: 4,
  ...extra,
});
