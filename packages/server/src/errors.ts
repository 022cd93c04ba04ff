import { CORE_ERROR_CODES, type CoreErrorCode, PdError } from '@pd-router/core';

/** OpenAI's `error.type` values (plus ours for upstream faults). */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'service_unavailable'
  | 'rate_limit_error'
  | 'server_error';

interface CodeInfo {
  readonly status: number;
  readonly type: OpenAiErrorType;
}

/**
 * Every error code the server can produce, with its default HTTP status and OpenAI type: the one
 * table for upstream faults (no 500s for those). Codes are stable (matched on by clients and other
 * packages), never renamed or reused, and each one is listed in docs/errors.md (test-enforced).
 */
const CODE_INFO = {
  PD_ERR_PREFILL_UNAVAILABLE: { status: 502, type: 'upstream_error' },
  PD_ERR_PREFILL_TIMEOUT: { status: 504, type: 'timeout_error' },
  // The status is the prefill's own 4xx, relayed; 400 is only the fallback.
  PD_ERR_PREFILL_REJECTED: { status: 400, type: 'invalid_request_error' },
  PD_ERR_PREFILL_UPSTREAM_STATUS: { status: 502, type: 'upstream_error' },
  PD_ERR_DECODE_UNAVAILABLE: { status: 502, type: 'upstream_error' },
  PD_ERR_DECODE_TIMEOUT: { status: 504, type: 'timeout_error' },
  PD_ERR_STREAM_IDLE: { status: 504, type: 'timeout_error' },
  PD_ERR_STREAM_BROKEN: { status: 502, type: 'upstream_error' },
  PD_ERR_NO_PREFILL_WORKER: { status: 503, type: 'service_unavailable' },
  PD_ERR_NO_DECODE_WORKER: { status: 503, type: 'service_unavailable' },
  PD_ERR_BAD_REQUEST: { status: 400, type: 'invalid_request_error' },
  PD_ERR_PAYLOAD_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  PD_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, type: 'invalid_request_error' },
  PD_ERR_NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  PD_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  PD_ERR_UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  PD_ERR_INTERNAL: { status: 500, type: 'server_error' },
  PD_ERR_KV_CONNECTOR_UNSUPPORTED: { status: 500, type: 'server_error' },
  PD_ERR_SHUTTING_DOWN: { status: 503, type: 'service_unavailable' },
  PD_ERR_WORKER_NOT_FOUND: { status: 404, type: 'invalid_request_error' },
  PD_ERR_WORKER_EXISTS: { status: 409, type: 'invalid_request_error' },
  // Thrown by buildServer at startup, never answered.
  PD_ERR_DISCOVERY_START_FAILED: { status: 500, type: 'server_error' },
  // NIXL: the prefill's 2xx answer could not be used (not JSON, too large; unusable params with fail).
  PD_ERR_PREFILL_BAD_ANSWER: { status: 502, type: 'upstream_error' },
  PD_ERR_KV_PARAMS_MISSING: { status: 502, type: 'upstream_error' },
  PD_ERR_KV_PARAMS_INVALID: { status: 502, type: 'upstream_error' },
  PD_ERR_NIXL_BATCH_UNSUPPORTED: { status: 400, type: 'invalid_request_error' },
  PD_ERR_MOONCAKE_BATCH_UNSUPPORTED: { status: 400, type: 'invalid_request_error' },
  // A prefill's 503: the client may retry later (Retry-After), as it would against vLLM itself.
  PD_ERR_PREFILL_OVERLOADED: { status: 503, type: 'service_unavailable' },
  // A prefill that answered 200, then an error event or no finish: no KV to hand over.
  PD_ERR_PREFILL_STREAM_ERROR: { status: 502, type: 'upstream_error' },
  // Admission (admission/): every place taken and the queue full; a queued request's wait ran out.
  PD_ERR_QUEUE_FULL: { status: 429, type: 'rate_limit_error' },
  PD_ERR_QUEUE_TIMEOUT: { status: 408, type: 'timeout_error' },
  // --request-timeout-secs: the whole request's cap, on top of the per-leg budgets.
  PD_ERR_REQUEST_TIMEOUT: { status: 504, type: 'timeout_error' },
  // Request intake: the body missed its deadline or minimum rate (the connection is then closed),
  // the parse budget is full, the connection limit is reached.
  PD_ERR_BODY_TIMEOUT: { status: 408, type: 'timeout_error' },
  PD_ERR_PARSE_BUSY: { status: 503, type: 'service_unavailable' },
  PD_ERR_TOO_MANY_CONNECTIONS: { status: 503, type: 'service_unavailable' },
} as const satisfies Record<string, CodeInfo>;

export type ServerErrorCode = keyof typeof CODE_INFO;

/** Every code of CODE_INFO. */
export const SERVER_ERROR_CODES = Object.keys(CODE_INFO) as readonly ServerErrorCode[];

export interface ServerErrorOptions {
  /** Overrides the code's default status (PD_ERR_PREFILL_REJECTED relays the prefill's 4xx). */
  readonly statusCode?: number;
  readonly cause?: unknown;
  /** OpenAI `error.param`: the request field at fault, when known. */
  readonly param?: string | null;
  /** A `Retry-After` header value (seconds) sent with the answer. */
  readonly retryAfter?: string;
}

/**
 * An error the server answers with: a stable code, an HTTP status and an OpenAI error type.
 *
 * @example
 * throw new ServerError('PD_ERR_NO_DECODE_WORKER', 'no healthy decode worker');
 */
export class ServerError extends PdError<ServerErrorCode | CoreErrorCode> {
  override readonly statusCode: number;
  readonly type: OpenAiErrorType;
  readonly param: string | null;
  readonly retryAfter: string | undefined;

  /** Core's codes (bad request bodies) take the status they carry, 400 by default. */
  constructor(code: ServerErrorCode | CoreErrorCode, message: string, options: ServerErrorOptions = {}) {
    const info: CodeInfo | undefined = (CODE_INFO as Partial<Record<string, CodeInfo>>)[code];
    const statusCode = options.statusCode ?? info?.status ?? 400;
    super(code, message, options.cause === undefined ? { statusCode } : { statusCode, cause: options.cause });
    this.name = 'ServerError';
    this.statusCode = statusCode;
    this.type = info?.type ?? errorTypeForStatus(statusCode);
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
  }

  /** The OpenAI-shaped body: `{"error": {"message", "type", "param", "code"}}`. */
  body(): string {
    return openAiErrorBody(this.code, this.type, this.message, this.param);
  }
}

const CORE_CODES: ReadonlySet<string> = new Set(CORE_ERROR_CODES);

/**
 * Any error as the answer a client gets (the one place that decides an error's status and body):
 * ours as they are, core's coded input errors with their status, anything else a 500
 * `PD_ERR_INTERNAL` (a bug: upstream faults and bad input always have a code of their own).
 *
 * @example errorReply(new Error('boom')).statusCode // 500
 */
export function errorReply(error: unknown): ServerError {
  if (error instanceof ServerError) return error;
  if (error instanceof PdError && CORE_CODES.has(error.code)) {
    const options =
      error.statusCode === undefined ? { cause: error } : { statusCode: error.statusCode, cause: error };
    return new ServerError(error.code as CoreErrorCode, error.message, options);
  }
  return new ServerError('PD_ERR_INTERNAL', 'internal error', { cause: error });
}

/** The OpenAI error type that goes with an HTTP status, for codes that are not ours (core's JSON codes). */
export function errorTypeForStatus(status: number): OpenAiErrorType {
  if (status === 401 || status === 403) return 'authentication_error';
  if (status === 503) return 'service_unavailable';
  if (status === 504) return 'timeout_error';
  if (status === 502) return 'upstream_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * The OpenAI-shaped body: `{"error": {"message", "type", "param", "code"}}`.
 *
 * @example
 * openAiErrorBody('PD_ERR_NOT_FOUND', 'invalid_request_error', 'no route GET /x')
 */
export function openAiErrorBody(
  code: string,
  type: OpenAiErrorType,
  message: string,
  param: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}
