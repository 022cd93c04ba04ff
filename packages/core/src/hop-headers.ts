/**
 * Hop-by-hop header stripping for a proxy (RFC 9110 §7.6.1, RFC 9112 §9.6): these headers describe
 * one connection, so forwarding them to the next hop would be wrong or dangerous (request smuggling
 * through a forwarded `Transfer-Encoding`, a client's `Connection: close` closing our pooled upstream).
 */

/**
 * Header input as Node and undici present it; `undefined` values are dropped.
 * @example const input: HeaderInput = request.headers; // Node's IncomingHttpHeaders fits
 */
export type HeaderInput = Record<string, string | string[] | undefined>;
/**
 * Header output: the same shape without `undefined`.
 * @example const forwarded: HeaderOutput = stripHopByHop(request.headers);
 */
export type HeaderOutput = Record<string, string | string[]>;

/**
 * Always removed, lower-case. `host` is not hop-by-hop in the RFC, but a proxy must set its own
 * (the upstream's), and `proxy-connection` is the pre-standard spelling some clients still send.
 */
const ALWAYS_STRIPPED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'host',
]);

/**
 * Returns a copy of `headers` without hop-by-hop headers: the fixed list above plus every header
 * named in `Connection` (comma-separated, any case, possibly several `Connection` values). Names are
 * matched case-insensitively and kept in their original case; `undefined` values are dropped. Pure:
 * the input is not modified. The result has no prototype, so a header named `__proto__` is an
 * ordinary key.
 * @example
 * stripHopByHop({ connection: 'keep-alive, x-trace', 'x-trace': '1', 'content-type': 'application/json' });
 * // { 'content-type': 'application/json' }
 */
export function stripHopByHop(headers: HeaderInput): HeaderOutput {
  const connectionTokens = listedInConnection(headers);
  const out: HeaderOutput = Object.create(null) as HeaderOutput;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (ALWAYS_STRIPPED.has(lower) || connectionTokens?.has(lower) === true) continue;
    out[name] = value;
  }
  return out;
}

/** Lower-cased header names listed in every `Connection` header (any key case), or undefined. */
function listedInConnection(headers: HeaderInput): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (const name of Object.keys(headers)) {
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = headers[name];
    if (value === undefined) continue;
    for (const line of Array.isArray(value) ? value : [value]) {
      for (const token of line.split(',')) {
        const trimmed = token.trim().toLowerCase();
        if (trimmed === '') continue;
        tokens ??= new Set();
        tokens.add(trimmed);
      }
    }
  }
  return tokens;
}
