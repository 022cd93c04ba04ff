/**
 * Worker specs as given on the command line (`--prefill`, `--decode`) or in the config file:
 * `http(s)://HOST[:PORT][/][:zmq://ZHOST:ZPORT[/]]`. The HTTP part is where requests go; the ZMQ part
 * is the P2P NCCL `kv` address that goes into the request id (wire-contracts A1).
 *
 * A hand-written parser rather than WHATWG `URL`: `URL` silently rewrites input (`127.1` becomes
 * `127.0.0.1`, percent-decoding, IDNA), and whatever we rewrite would no longer match the address
 * the worker registers with or the `Host` the reference proxy sends.
 */
import { CoreError } from './errors.js';
import { checkHost, parsePort } from './host-syntax.js';
import { parseZmqAddress, type ZmqAddress } from './request-id.js';
import { err, ok, type Result } from './result.js';

/**
 * A parsed worker: where to send HTTP, and which ZMQ address to put in P2P NCCL request ids.
 * @example
 * const r = parseWorkerUrl('http://10.0.0.5:8000');
 * if (r.ok && r.value.zmqFromHttp) console.warn(`no :zmq:// given, using ${r.value.zmq.text}`);
 */
export interface WorkerAddress {
  /** Origin without a trailing slash and always with an explicit port: `http://127.0.0.1:20003`. */
  readonly url: string;
  /** The `Host` header value, `host:port` with the port always written (as the reference proxy does). */
  readonly hostHeader: string;
  readonly zmq: ZmqAddress;
  /** True when the spec had no `:zmq://` part and `zmq` is the HTTP host and port (worth a warning). */
  readonly zmqFromHttp: boolean;
}

/**
 * Options of {@link parseWorkerUrl}.
 * @example parseWorkerUrl('http://[::1]:8000', { zmqUnused: true });
 */
export interface WorkerUrlOptions {
  /**
   * The ZMQ address will never be used (NIXL workers: everything travels in `kv_transfer_params`).
   * An IPv6 HTTP host without `:zmq://` is then accepted; its `zmq` is the HTTP host and port as
   * written in `hostHeader` (`[::1]:8000`, which is not a valid P2P NCCL address) and `zmqFromHttp`
   * is true. Default false.
   */
  readonly zmqUnused?: boolean;
}

const ZMQ_SEPARATOR = ':zmq://';
const DEFAULT_PORT = { http: 80, https: 443 } as const;
const EXPECTED = 'expected http(s)://HOST:PORT or http(s)://HOST:PORT:zmq://HOST:PORT';
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;
const NOT_AUTHORITY = /[/?#@\\]/;

/**
 * Parses a worker spec. Accepts `http://H:P`, `https://H:P`, `http://H:P:zmq://ZH:ZP`, a trailing
 * `/` on either part, a bracketed IPv6 HTTP host (`http://[::1]:8000`, normalised to its compressed
 * form) and a missing port (80 for http, 443 for https). The scheme and `zmq://` are case-insensitive.
 *
 * Without a `:zmq://` part the ZMQ address falls back to the HTTP host and port and `zmqFromHttp` is
 * true. That fallback is an error for an IPv6 HTTP host, because P2P NCCL cannot use IPv6 ZMQ
 * addresses (see {@link parseZmqAddress}): give an explicit `:zmq://` with an IPv4 address or a name,
 * or pass `{ zmqUnused: true }` for workers whose ZMQ address is never used (NIXL).
 *
 * Rejected with `PD_ERR_WORKER_URL_INVALID` (the ZMQ part's own error as `cause`, when it is the
 * culprit): other schemes, a missing scheme, paths, queries, fragments, user info, bad hosts or ports.
 * @example
 * const r = parseWorkerUrl('http://127.0.0.1:20003:zmq://127.0.0.1:21001');
 * if (r.ok) r.value;
 * // { url: 'http://127.0.0.1:20003', hostHeader: '127.0.0.1:20003',
 * //   zmq: { host: '127.0.0.1', port: 21001, text: '127.0.0.1:21001' }, zmqFromHttp: false }
 */
export function parseWorkerUrl(spec: string, options: WorkerUrlOptions = {}): Result<WorkerAddress> {
  const problem = (why: string, cause?: unknown): Result<WorkerAddress> =>
    err(
      new CoreError(
        'PD_ERR_WORKER_URL_INVALID',
        `invalid worker URL "${spec}": ${why}; ${EXPECTED}`,
        cause === undefined ? {} : { cause },
      ),
    );

  const lower = spec.toLowerCase();
  const separator = lower.indexOf(ZMQ_SEPARATOR);
  if (separator >= 0 && lower.includes(ZMQ_SEPARATOR, separator + 1)) {
    return problem(`more than one "${ZMQ_SEPARATOR}" part`);
  }
  const httpPart = separator < 0 ? spec : spec.slice(0, separator);
  const zmqPart = separator < 0 ? undefined : spec.slice(separator + ZMQ_SEPARATOR.length);

  let scheme: 'http' | 'https';
  if (lower.startsWith('http://')) scheme = 'http';
  else if (lower.startsWith('https://')) scheme = 'https';
  else {
    const end = httpPart.indexOf('://');
    return problem(
      end < 0 ? 'missing http:// or https://' : `unsupported scheme "${httpPart.slice(0, end)}"`,
    );
  }

  let authority = httpPart.slice(scheme.length + 3);
  if (authority.endsWith('/')) authority = authority.slice(0, -1);
  if (NOT_AUTHORITY.test(authority)) {
    return problem('only scheme://host:port is allowed (no path, query, fragment or user info)');
  }

  let host: string;
  let portText: string | undefined;
  let ipv6 = false;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    const rest = close < 0 ? '' : authority.slice(close + 1);
    if (close < 0) return problem("unclosed '[' in the host");
    if (rest !== '' && !rest.startsWith(':')) return problem(`unexpected "${rest}" after the IPv6 address`);
    const literal = canonicalIpv6(authority.slice(1, close));
    if (literal === undefined) return problem(`"${authority.slice(0, close + 1)}" is not an IPv6 address`);
    host = literal;
    portText = rest === '' ? undefined : rest.slice(1);
    ipv6 = true;
  } else {
    const parts = authority.split(':');
    if (parts.length > 2) return problem("more than one ':' in host:port (write IPv6 hosts in brackets)");
    host = parts[0]!;
    portText = parts[1];
    const hostProblem = checkHost(host);
    if (hostProblem !== undefined) return problem(hostProblem);
  }
  const port = portText === undefined ? DEFAULT_PORT[scheme] : parsePort(portText);
  if (typeof port === 'string') return problem(port);
  const hostHeader = `${host}:${port}`;
  const url = `${scheme}://${hostHeader}`;

  if (zmqPart !== undefined) {
    const zmq = parseZmqAddress(zmqPart.endsWith('/') ? zmqPart.slice(0, -1) : zmqPart);
    if (!zmq.ok) return problem(`the zmq part is invalid (${zmq.error.message})`, zmq.error);
    return ok({ url, hostHeader, zmq: zmq.value, zmqFromHttp: false });
  }
  if (ipv6 && options.zmqUnused === true) {
    return ok({ url, hostHeader, zmq: { host, port, text: hostHeader }, zmqFromHttp: true });
  }
  if (ipv6) {
    return problem(
      "an IPv6 HTTP host needs an explicit ':zmq://HOST:PORT' with an IPv4 address or host name, " +
        "because vLLM's P2P NCCL connector cannot use IPv6 ZMQ addresses",
    );
  }
  const zmq = parseZmqAddress(hostHeader);
  if (!zmq.ok) {
    return problem(`the ZMQ address taken from the HTTP host is invalid (${zmq.error.message})`, zmq.error);
  }
  return ok({ url, hostHeader, zmq: zmq.value, zmqFromHttp: true });
}

/** Validates an IPv6 literal (no zone id) and returns it bracketed in RFC 5952 compressed form. */
function canonicalIpv6(literal: string): string | undefined {
  if (!literal.includes(':') || !IPV6_CHARS.test(literal)) return undefined;
  try {
    // Only the host of a known-good URL skeleton varies, so URL is used as an IPv6 validator here.
    return new URL(`http://[${literal}]/`).hostname;
  } catch {
    return undefined;
  }
}
