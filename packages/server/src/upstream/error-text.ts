import { ServerError } from '../errors.js';

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

/**
 * The error for a prefill's non-2xx answer: a 4xx is the request's fault and is relayed with its
 * status, message and param (`PD_ERR_PREFILL_REJECTED`); anything else is a failing worker (502).
 */
export function prefillStatusError(status: number, body: Buffer, name: string): ServerError {
  const message = upstreamMessage(body);
  if (status >= 400 && status < 500) {
    return new ServerError('PD_ERR_PREFILL_REJECTED', message, {
      statusCode: status,
      param: upstreamParam(body),
    });
  }
  return new ServerError(
    'PD_ERR_PREFILL_UPSTREAM_STATUS',
    `${name} answered HTTP ${status}${message === '' ? '' : `: ${message}`}`,
  );
}
