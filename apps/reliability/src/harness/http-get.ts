import { request } from 'undici';
import { errorCodeOf } from './http-response-parser.js';

export interface SimpleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  readonly code: string | undefined;
}

/**
 * One request on a connection of its own (closed afterwards), body read whole.
 *
 * @example
 * const r = await send(url, 'GET', '/health');
 */
export async function send(
  origin: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  headers: Readonly<Record<string, string>> = {},
  body?: string,
): Promise<SimpleResponse> {
  const res = await request(`${origin}${path}`, {
    method,
    headers,
    reset: true,
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, code: errorCodeOf(text) };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
