import { SseParser } from '@pd-router/core';
import { Client } from 'undici';
import { errorCodeOf } from './http-response-parser.js';

export interface CompletionOptions {
  readonly path?: '/v1/completions' | '/v1/chat/completions';
  readonly headers?: Readonly<Record<string, string>>;
  /** Client-side cap on the whole exchange (default 15 s). */
  readonly timeoutMs?: number;
}

export interface CompletionResult {
  /** 0 when no status line arrived. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** `error.code` of a JSON error body, or of the last SSE event when it is an error event. */
  readonly code: string | undefined;
  /** SSE data fields, in order (streams only). */
  readonly events: readonly string[];
  /** Time until the client saw the end (or the break) of the answer. */
  readonly elapsedMs: number;
  /** The transport error that ended the answer early (e.g. UND_ERR_SOCKET), if any. */
  readonly transportError: string | undefined;
}

/** A small completion request body the mocks accept. */
export function completionBody(stream: boolean, maxTokens = 5, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'mock-model',
    prompt: 'hello reliability',
    max_tokens: maxTokens,
    stream,
    ...extra,
  });
}

/**
 * POSTs a completion through a fresh undici Client (its connection closed afterwards, so socket
 * counts settle) and reads the whole answer, SSE events included.
 *
 * @example
 * const r = await postCompletion(stack.url, completionBody(true));
 * r.events.at(-1) // 'data: [DONE]' payload
 */
export async function postCompletion(
  origin: string,
  body: string | Buffer,
  options: CompletionOptions = {},
): Promise<CompletionResult> {
  const client = new Client(origin, { keepAliveTimeout: 1, pipelining: 1 });
  const t0 = performance.now();
  let status = 0;
  let headers: Record<string, string | string[] | undefined> = {};
  const chunks: Buffer[] = [];
  let transportError: string | undefined;
  try {
    const res = await client.request({
      method: 'POST',
      path: options.path ?? '/v1/completions',
      headers: { 'content-type': 'application/json', ...options.headers },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    status = res.statusCode;
    headers = res.headers;
    try {
      for await (const chunk of res.body) chunks.push(chunk as Buffer);
    } catch (error) {
      transportError = codeOf(error);
    }
  } catch (error) {
    transportError = codeOf(error);
  } finally {
    await client.destroy().catch(() => undefined);
  }
  const elapsedMs = performance.now() - t0;
  const text = Buffer.concat(chunks).toString('utf8');
  const contentType = String(headers['content-type'] ?? '');
  let events: string[] = [];
  let code: string | undefined;
  if (contentType.startsWith('text/event-stream')) {
    const parser = new SseParser();
    events = [...parser.push(text), ...parser.end()].map((e) => e.data);
    const last = events.at(-1);
    code = last === undefined ? undefined : errorCodeOf(last);
  } else {
    code = errorCodeOf(text);
  }
  return { status, headers, text, code, events, elapsedMs, transportError };
}

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return String(error);
}
