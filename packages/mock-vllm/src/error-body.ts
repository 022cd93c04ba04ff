/**
 * vLLM's error shape (`ErrorResponse` in vllm/entrypoints/openai/engine/protocol.py):
 * `{"error": {"message", "type", "param", "code"}}`, with `code` the HTTP status as an integer.
 */
export interface VllmErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: number;
  };
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  404: 'NotFoundError',
  413: 'RequestEntityTooLargeError',
  429: 'TooManyRequestsError',
  500: 'InternalServerError',
  501: 'NotImplementedError',
  503: 'ServiceUnavailableError',
};

/** The `type` vLLM reports for a status (vLLM names them after the exception; unknown ones are generic). */
export function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status < 500 ? 'BadRequestError' : 'InternalServerError');
}

/**
 * Builds vLLM's error body.
 *
 * @example
 * vllmErrorBody(400, 'max_tokens must be at least 1, got 0.', 'max_tokens')
 */
export function vllmErrorBody(status: number, message: string, param: string | null = null): VllmErrorBody {
  return { error: { message, type: errorTypeFor(status), param, code: status } };
}

/** The body as the JSON text vLLM sends (compact separators, like Starlette's JSONResponse). */
export function vllmErrorJson(status: number, message: string, param: string | null = null): string {
  return JSON.stringify(vllmErrorBody(status, message, param));
}
