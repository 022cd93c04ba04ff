/**
 * The header set both upstream legs get: exactly the reference proxy's (reference-proxy.md,
 * "Header set and order"), with our User-Agent. Nothing from the client is forwarded, as in the
 * reference: client credentials are for the router, and vLLM reads X-Request-Id, which we own.
 *
 * The list is built once per worker as a flat [name, value, ...] array (undici's fastest input,
 * and it keeps this order); per request only the id and the length are filled in on a copy.
 * undici writes `host` and `content-length` itself, in lower case, and adds `connection:
 * keep-alive`; it sends no other header and no Transfer-Encoding when the body is a string.
 */
export const REQUEST_ID_INDEX = 5;
export const CONTENT_LENGTH_INDEX = 13;

/**
 * The upstream `Authorization` value: `--upstream-api-key`, else `$OPENAI_API_KEY` when set (set but
 * empty gives `Bearer `, as the reference), else the reference's literal `None`.
 *
 * @example
 * upstreamAuthorization(undefined, {}) // 'Bearer None'
 */
export function upstreamAuthorization(
  apiKey: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
) {
  return `Bearer ${apiKey ?? env['OPENAI_API_KEY'] ?? 'None'}`;
}

/**
 * @example
 * const template = postHeaderTemplate('127.0.0.1:20003', 'Bearer None', 'pd-router/0.1.0');
 * const headers = withRequest(template, id, body.length);
 */
export function postHeaderTemplate(hostHeader: string, authorization: string, userAgent: string): string[] {
  return [
    'Host',
    hostHeader,
    'Authorization',
    authorization,
    'X-Request-Id',
    '',
    'Accept',
    '*/*',
    'Accept-Encoding',
    'gzip, deflate',
    'User-Agent',
    userAgent,
    'Content-Length',
    '',
    'Content-Type',
    'application/json',
  ];
}

/** A copy of the template with this request's id and body length (bytes: bodies are ASCII). */
export function withRequest(template: readonly string[], requestId: string, contentLength: number): string[] {
  const headers = template.slice();
  headers[REQUEST_ID_INDEX] = requestId;
  headers[CONTENT_LENGTH_INDEX] = String(contentLength);
  return headers;
}

/** Headers for a bodiless GET (e.g. /v1/models): the same set minus the request id and body fields. */
export function getHeaders(hostHeader: string, authorization: string, userAgent: string): string[] {
  return [
    'Host',
    hostHeader,
    'Authorization',
    authorization,
    'Accept',
    '*/*',
    'Accept-Encoding',
    'gzip, deflate',
    'User-Agent',
    userAgent,
  ];
}
