import { ServerError } from '../errors.js';
import type { UpstreamErrorKind } from '../metrics.js';
import type { WorkerRole } from '../workers/worker.js';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
/** undici's own, the socket's, and the relay's idle timer (StreamIdleError). */
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ERR_STREAM_IDLE',
]);

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * What kind of upstream failure an undici (or socket, or zlib) error is. Matched on `code`, as undici
 * documents; the cause is looked at too because undici wraps socket errors.
 *
 * @example
 * classifyUpstreamError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })) // 'connect'
 */
export function classifyUpstreamError(error: unknown): UpstreamErrorKind {
  const code = codeOf(error);
  const causeCode = codeOf(
    typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined,
  );
  for (const c of [code, causeCode]) {
    if (c === undefined) continue;
    if (CONNECT_CODES.has(c)) return 'connect';
    if (TIMEOUT_CODES.has(c)) return 'timeout';
    if (RESET_CODES.has(c)) return 'reset';
  }
  return 'bad_response';
}

const KIND_TEXT: Readonly<Record<UpstreamErrorKind, string>> = {
  connect: 'could not be reached',
  reset: 'closed the connection',
  timeout: 'timed out',
  status: 'answered with an error status',
  stream_idle: 'went silent mid-stream',
  stream_broken: 'broke off mid-stream',
  bad_response: 'sent a malformed answer',
};

/** A short, address-free description of an upstream failure kind, for client-facing messages. */
export function describeKind(kind: UpstreamErrorKind): string {
  return KIND_TEXT[kind];
}

/** The error's code and message, for logs (never sent to clients below debug level). */
export function errorDetail(error: unknown): string {
  if (error instanceof Error) {
    const code = codeOf(error);
    return code === undefined ? error.message : `${code}: ${error.message}`;
  }
  return String(error);
}

/**
 * The coded error of a leg that failed before any byte reached the client: a timeout (504) or an
 * unreachable / failing worker (502), worded for clients with the worker's public name.
 *
 * @example legError('decode', 'decode worker #1', 'timeout', 300000, '', cause); // PD_ERR_DECODE_TIMEOUT
 */
export function legError(
  role: WorkerRole,
  name: string,
  kind: UpstreamErrorKind,
  budgetMs: number,
  detail: string,
  cause: unknown,
): ServerError {
  const prefill = role === 'prefill';
  if (kind === 'timeout') {
    const what = prefill ? 'did not answer completely' : 'sent no first byte';
    return new ServerError(
      prefill ? 'PD_ERR_PREFILL_TIMEOUT' : 'PD_ERR_DECODE_TIMEOUT',
      `${name} ${what} within ${budgetMs} ms${detail}`,
      { cause },
    );
  }
  return new ServerError(
    prefill ? 'PD_ERR_PREFILL_UNAVAILABLE' : 'PD_ERR_DECODE_UNAVAILABLE',
    `${name} ${describeKind(kind)}${detail}`,
    { cause },
  );
}
