/**
 * Every error code core can produce. Codes are stable: they are matched on by other packages and
 * by users, so they are never renamed or reused. Each one is listed in docs/errors.md (test-enforced).
 */
export const CORE_ERROR_CODES = [
  'PD_ERR_JSON_SYNTAX',
  'PD_ERR_JSON_NOT_OBJECT',
  'PD_ERR_JSON_TOO_DEEP',
  'PD_ERR_JSON_ENCODING',
  'PD_ERR_ZMQ_ADDRESS_INVALID',
  'PD_ERR_WORKER_URL_INVALID',
  'PD_ERR_SSE_FIELD_INVALID',
] as const;

export type CoreErrorCode = (typeof CORE_ERROR_CODES)[number];

export interface PdErrorOptions {
  readonly statusCode?: number;
  readonly cause?: unknown;
}

/** Base class of every pd-router error: match on `code`, never on the class or the message. */
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

export interface CoreErrorOptions extends PdErrorOptions {
  /** Byte offset into the input where the problem was found, when there is one. */
  readonly position?: number;
}

/** An input core could not accept: a request body, an address, an SSE field. */
export class CoreError extends PdError<CoreErrorCode> {
  readonly position: number | undefined;

  constructor(code: CoreErrorCode, message: string, options: CoreErrorOptions = {}) {
    super(code, message, options);
    this.name = 'CoreError';
    this.position = options.position;
  }
}
