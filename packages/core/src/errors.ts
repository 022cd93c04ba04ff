/**
 * Every error code core can produce. Codes are stable: they are matched on by other packages and
 * by users, so they are never renamed or reused. Each one is listed in docs/errors.md (test-enforced).
 * @example CORE_ERROR_CODES.includes('PD_ERR_JSON_SYNTAX'); // true
 */
export const CORE_ERROR_CODES = [
  'PD_ERR_JSON_SYNTAX',
  'PD_ERR_JSON_NOT_OBJECT',
  'PD_ERR_JSON_TOO_DEEP',
  'PD_ERR_JSON_ENCODING',
  'PD_ERR_JSON_TOO_MANY_ELEMENTS',
  'PD_ERR_ZMQ_ADDRESS_INVALID',
  'PD_ERR_WORKER_URL_INVALID',
  'PD_ERR_SSE_FIELD_INVALID',
] as const;

/**
 * One of {@link CORE_ERROR_CODES}.
 * @example const code: CoreErrorCode = 'PD_ERR_WORKER_URL_INVALID';
 */
export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

/**
 * Optional parts of a {@link PdError}: the HTTP status it maps to and the underlying cause.
 * @example new PdError('PD_ERR_X', 'message', { statusCode: 502, cause: upstreamError });
 */
export interface PdErrorOptions {
  readonly statusCode?: number;
  readonly cause?: unknown;
}

/**
 * Base class of every pd-router error: match on `code`, never on the class or the message.
 * @example
 * if (error instanceof PdError && error.code === 'PD_ERR_ZMQ_ADDRESS_INVALID') process.exitCode = 2;
 */
export class PdError<C extends string = string> extends Error {
  readonly code: C;
  readonly statusCode: number | undefined;

  constructor(code: C, message: string, options: PdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PdError';
    this.code = code;
    this.statusCode = options.statusCode;
  }
}

/**
 * {@link PdErrorOptions} plus the byte offset where a parse failed.
 * @example new CoreError('PD_ERR_JSON_SYNTAX', 'Expecting value', { statusCode: 400, position: 0 });
 */
export interface CoreErrorOptions extends PdErrorOptions {
  /** Byte offset into the input where the problem was found, when there is one. */
  readonly position?: number;
}

/**
 * An input core could not accept: a request body, an address, an SSE field. Core returns these in a
 * {@link Result} and throws them only for programming errors.
 * @example
 * const r = parseZmqAddress('no-port');
 * if (!r.ok) console.error(r.error.code, r.error.message); // PD_ERR_ZMQ_ADDRESS_INVALID ...
 */
export class CoreError extends PdError<CoreErrorCode> {
  readonly position: number | undefined;

  constructor(code: CoreErrorCode, message: string, options: CoreErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CoreError';
    this.position = options.position;
  }
}
