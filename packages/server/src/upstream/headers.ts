/**
 * The header set both upstream legs get: exactly the set of the connector's reference proxy
 * (reference-proxy.md and nixl-toy-proxy.md, "Header set and order"), in its order, with our
 * User-Agent. Nothing from the client is forwarded, as in the references: client credentials are
 * for the router, and vLLM reads X-Request-Id, which we own.
 *
 * The list is built once per worker as a flat [name, value, ...] array (undici's fastest input,
 * and it keeps this order); per request only the id and the length are filled in on a copy.
 * undici writes `host` and `connection: keep-alive` first and `content-length` last, in lower case,
 * whatever their place in the list; it sends no other header and no Transfer-Encoding when the
 * body is a string.
 */
export type UpstreamHeaderName =
  | 'Host'
  | 'Authorization'
  | 'X-Request-Id'
  | 'Accept'
  | 'Accept-Encoding'
  | 'User-Agent'
  | 'Content-Length'
  | 'Content-Type';

/** vLLM's P2P NCCL proxy (aiohttp): its order, byte for byte. */
export const REFERENCE_PROXY_HEADER_ORDER: readonly UpstreamHeaderName[] = [
  'Host',
  'Authorization',
  'X-Request-Id',
  'Accept',
  'Accept-Encoding',
  'User-Agent',
  'Content-Length',
  'Content-Type',
];

/** vLLM's NIXL toy proxy (httpx): its order, byte for byte. */
export const NIXL_TOY_PROXY_HEADER_ORDER: readonly UpstreamHeaderName[] = [
  'Host',
  'Accept',
  'Accept-Encoding',
  'User-Agent',
  'Authorization',
  'X-Request-Id',
  'Content-Length',
  'Content-Type',
];

/** With `--intra-node-data-parallel-size` > 1, after the reference's set (absent otherwise). */
export const DATA_PARALLEL_RANK_HEADER = 'X-data-parallel-rank';

/** A worker's prepared header list and where its per-request values go. */
export interface HeaderTemplate {
  readonly list: readonly string[];
  readonly requestIdIndex: number;
  readonly contentLengthIndex: number;
}

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
 * const template = postHeaderTemplate(REFERENCE_PROXY_HEADER_ORDER, '127.0.0.1:20003', 'Bearer None', 'pd-router/0.1.0');
 * const headers = withRequest(template, id, body.length);
 */
export function postHeaderTemplate(
  order: readonly UpstreamHeaderName[],
  hostHeader: string,
  authorization: string,
  userAgent: string,
  dpRank?: number,
): HeaderTemplate {
  const values: Record<UpstreamHeaderName, string> = {
    Host: hostHeader,
    Authorization: authorization,
    'X-Request-Id': '',
    Accept: '*/*',
    'Accept-Encoding': 'gzip, deflate',
    'User-Agent': userAgent,
    'Content-Length': '',
    'Content-Type': 'application/json',
  };
  const list = order.flatMap((name) => [name, values[name]]);
  // vLLM's OpenAI server reads the data-parallel rank to serve the request on (`_get_data_parallel_rank`).
  if (dpRank !== undefined) list.push(DATA_PARALLEL_RANK_HEADER, String(dpRank));
  const valueIndex = (name: UpstreamHeaderName): number => {
    const at = order.indexOf(name);
    if (at < 0) throw new Error(`the upstream header order lacks ${name}`);
    return at * 2 + 1;
  };
  return {
    list,
    requestIdIndex: valueIndex('X-Request-Id'),
    contentLengthIndex: valueIndex('Content-Length'),
  };
}

/** A copy of the template with this request's id and body length (bytes: bodies are ASCII). */
export function withRequest(template: HeaderTemplate, requestId: string, contentLength: number): string[] {
  const headers = template.list.slice();
  headers[template.requestIdIndex] = requestId;
  headers[template.contentLengthIndex] = String(contentLength);
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
