import type { IncomingHttpHeaders } from 'node:http';
import { ServerError } from '../errors.js';
import { headerText } from './read-body.js';

/** A client-facing message quotes at most this much of an upstream's error text. */
const MESSAGE_QUOTE_CHARS = 1_000;

/** The first message in a vLLM (or FastAPI) error body, else its text. */
export function upstreamMessage(body: Buffer): string {
  const text = body.toString('utf8').trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const o = parsed as { error?: unknown; message?: unknown; detail?: unknown };
      const inner =
        typeof o.error === 'object' && o.error !== null
          ? (o.error as { message?: unknown }).message
          : o.error;
      for (const candidate of [inner, o.message, o.detail]) {
        if (typeof candidate === 'string' && candidate !== '') return candidate.slice(0, MESSAGE_QUOTE_CHARS);
      }
    }
  } catch {
    // Not JSON: quote the text.
  }
  return text.slice(0, MESSAGE_QUOTE_CHARS);
}

/** The `param` of a vLLM (OpenAI-shaped) error body, relayed with a 4xx; null when absent. */
export function upstreamParam(body: Buffer): string | null {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const error = (parsed as { error?: { param?: unknown } } | null)?.error;
    return typeof error?.param === 'string' ? error.param : null;
  } catch {
    return null;
  }
}

/** Seconds a client is told to wait after a prefill's 429 or 503 that named no wait of its own. */
export const DEFAULT_RETRY_AFTER_S = 1;
const DELAY_SECONDS = /^\d{1,9}$/;

/** The prefill's own Retry-After when it is a number of seconds, else DEFAULT_RETRY_AFTER_S. */
function retryAfter(headers: IncomingHttpHeaders): string {
  const value = headerText(headers['retry-after'])?.trim();
  return value !== undefined && DELAY_SECONDS.test(value) ? value : String(DEFAULT_RETRY_AFTER_S);
}

/**
 * The error for a prefill's non-2xx answer: a 4xx is the request's fault and is relayed with its
 * status, message and param (`PD_ERR_PREFILL_REJECTED`); a 503 is an overloaded worker, relayed
 * as 503 (`PD_ERR_PREFILL_OVERLOADED`); anything else is a failing worker (502). A 429 or a 503
 * carries Retry-After: no other worker takes the request (the router does not retry it).
 */
export function prefillStatusError(
  status: number,
  body: Buffer,
  name: string,
  headers: IncomingHttpHeaders,
): ServerError {
  const message = upstreamMessage(body);
  if (status >= 400 && status < 500) {
    return new ServerError('PD_ERR_PREFILL_REJECTED', message, {
      statusCode: status,
      param: upstreamParam(body),
      ...(status === 429 ? { retryAfter: retryAfter(headers) } : {}),
    });
  }
  const text = `${name} answered HTTP ${status}${message === '' ? '' : `: ${message}`}`;
  if (status === 503)
    return new ServerError('PD_ERR_PREFILL_OVERLOADED', text, { retryAfter: retryAfter(headers) });
  return new ServerError('PD_ERR_PREFILL_UPSTREAM_STATUS', text);
}
