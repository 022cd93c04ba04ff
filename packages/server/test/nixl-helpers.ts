import { request } from 'undici';
import { expect } from 'vitest';
import type { Router } from './helpers.js';

/** A completions prompt of 20 estimated tokens (80 chars): one full 16-token block is held. */
export const LONG_PROMPT = 'The quick brown fox jumps over the lazy dog while the router hands its KV over. ';

export const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function completionsBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'mock-model', prompt: LONG_PROMPT, max_tokens: 3, ...extra });
}

export function chatBody(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: 'mock-model',
    messages: [{ role: 'user', content: LONG_PROMPT }],
    max_tokens: 3,
    ...extra,
  });
}

export async function post(
  router: Router,
  path: string,
  body: string,
): Promise<{ status: number; contentType: string; text: string }> {
  const res = await request(`${router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const contentType = String(res.headers['content-type'] ?? '');
  return { status: res.statusCode, contentType, text: await res.body.text() };
}

/** `{error: {code, ...}}` of an error answer. */
export function errorOf(text: string): { code: string; type: string; message: string; param: string | null } {
  return (
    JSON.parse(text) as { error: { code: string; type: string; message: string; param: string | null } }
  ).error;
}

/** One sample of the router's /metrics (0 when the series is absent). */
export async function metricValue(router: Router, series: string): Promise<number> {
  const res = await request(`${router.url}/metrics`);
  expect(res.statusCode).toBe(200);
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The `kv_transfer_params` object a worker received in its JSON body, if any. */
export function kvParamsOf(body: Buffer): Record<string, unknown> | undefined {
  const parsed = JSON.parse(body.toString('utf8')) as { kv_transfer_params?: Record<string, unknown> };
  return parsed.kv_transfer_params;
}
