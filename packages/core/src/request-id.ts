/**
 * P2P NCCL request ids: the router writes both ZMQ addresses into `X-Request-Id`, and vLLM's
 * P2pNcclConnector reads them back with two greedy regular expressions
 * (`vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py`, `parse_request_id`).
 * See docs: wire-contracts A1.
 */
import { CoreError } from './errors.js';
import { checkHost, parsePort } from './host-syntax.js';
import { err, ok, type Result } from './result.js';

/**
 * A ZMQ endpoint as vLLM's P2P NCCL connector uses it: `tcp://{host}:{port}`. Obtain one from
 * {@link parseZmqAddress} (validated) or {@link parseRequestId} (as vLLM reads it, unvalidated).
 * @example const address: ZmqAddress = { host: '10.0.1.2', port: 21001, text: '10.0.1.2:21001' };
 */
export interface ZmqAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port`, exactly as it is written into request ids. */
  readonly text: string;
}

/**
 * What vLLM would read from a request id; a side is absent when its regex does not match.
 * @example const { prefill, decode }: RequestIdAddresses = parseRequestId(id);
 */
export interface RequestIdAddresses {
  readonly prefill?: ZmqAddress;
  readonly decode?: ZmqAddress;
}

const PREFILL_MARK = '___prefill_addr_';
const DECODE_MARK = '___decode_addr_';
const RANDOM_BYTES = 16;

// vLLM's patterns, translated: Python's `.` excludes only "\n" (JS's `.` also excludes "\r",
// U+2028 and U+2029), and Python's `\d` on str matches every Unicode decimal digit (Nd), which
// `int()` then accepts. `exec` without the `g` flag is `re.search`: leftmost match, greedy groups.
const DECODE_PATTERN = /___decode_addr_([^\n]*):(\p{Nd}+)/u;
const PREFILL_PATTERN = /___prefill_addr_([^\n]*):(\p{Nd}+)___/u;
const ASCII_DIGITS = /^[0-9]+$/;
const ND_DIGIT = /^\p{Nd}$/u;
/** CPython ≥ 3.10.7 refuses `int()` of longer digit strings (`sys.get_int_max_str_digits()`). */
const PYTHON_INT_MAX_STR_DIGITS = 4300;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Parses and validates a ZMQ address `host:port` for use in P2P NCCL request ids.
 *
 * Rejected, because vLLM would mis-read the id or could not connect: no port, a port outside
 * 1-65535 or with a leading zero, an empty host, more than one `:` (IPv6 literals, `host:1:2`),
 * brackets, a scheme (`tcp://`), a host containing `___` or starting with `__` (that would complete a
 * `___decode_addr_` marker early), and anything but letters, digits, `-`, `_`, `.` in the host.
 *
 * @example
 * const r = parseZmqAddress('10.0.1.2:21001');
 * if (r.ok) r.value; // { host: '10.0.1.2', port: 21001, text: '10.0.1.2:21001' }
 * parseZmqAddress('[::1]:21001').ok; // false, code PD_ERR_ZMQ_ADDRESS_INVALID
 */
export function parseZmqAddress(text: string): Result<ZmqAddress> {
  const problem = (why: string): Result<ZmqAddress> =>
    err(new CoreError('PD_ERR_ZMQ_ADDRESS_INVALID', `invalid ZMQ address "${text}": ${why}`));
  if (text.includes('://')) return problem('give host:port without a scheme (no tcp:// or zmq://)');
  const colon = text.lastIndexOf(':');
  if (colon < 0) return problem('missing ":port"');
  if (text.includes('[') || text.indexOf(':') !== colon) {
    return problem(
      "only one ':' is allowed; IPv6 literals are not supported because vLLM's P2P NCCL connector " +
        "builds tcp://host:port verbatim and reads the request id with a regex that splits at a ':'",
    );
  }
  const host = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1));
  if (typeof port === 'string') return problem(port);
  // In the id the host follows a marker ending in '_', so '__' at its start would make '___'.
  if (host.includes('___') || host.startsWith('__')) {
    return problem(
      "the host must not contain '___' or start with '__' (it would break the request-id markers)",
    );
  }
  const hostProblem = checkHost(host);
  if (hostProblem !== undefined) return problem(hostProblem);
  return ok({ host, port, text: `${host}:${port}` });
}

/**
 * Builds the P2P NCCL request id `___prefill_addr_{P}___decode_addr_{D}_{32 lower-case hex}`, the
 * value the reference proxy sends as `X-Request-Id` to both prefill and decode.
 *
 * `random16` supplies the unique part (hex-encoded as given; core never reads an RNG). Addresses given
 * as strings are validated with {@link parseZmqAddress}; a `ZmqAddress` is trusted and its `text` used.
 * @throws CoreError `PD_ERR_ZMQ_ADDRESS_INVALID` for an invalid address string, RangeError unless
 *   `random16` has exactly 16 bytes. Both are programming errors: validate addresses at configuration.
 * @example
 * createRequestId('127.0.0.1:21001', '127.0.0.1:22001', crypto.getRandomValues(new Uint8Array(16)));
 * // '___prefill_addr_127.0.0.1:21001___decode_addr_127.0.0.1:22001_41e0b7d8be7044fcb627f4de3cd27e82'
 */
export function createRequestId(
  prefill: ZmqAddress | string,
  decode: ZmqAddress | string,
  random16: Uint8Array,
): string {
  if (random16.length !== RANDOM_BYTES) {
    throw new RangeError(`createRequestId needs ${RANDOM_BYTES} random bytes, got ${random16.length}`);
  }
  let hex = '';
  for (let i = 0; i < RANDOM_BYTES; i++) hex += HEX_BYTE[random16[i]!];
  return `${PREFILL_MARK}${addressText(prefill)}${DECODE_MARK}${addressText(decode)}_${hex}`;
}

function addressText(address: ZmqAddress | string): string {
  if (typeof address !== 'string') return address.text;
  const parsed = parseZmqAddress(address);
  if (!parsed.ok) throw parsed.error;
  return parsed.value.text;
}

/**
 * Reads the addresses out of a request id exactly as vLLM's P2P NCCL connector does:
 * `re.search(r"___prefill_addr_(.*):(\d+)___", id)` (what decode reads) and
 * `re.search(r"___decode_addr_(.*):(\d+)", id)` (what prefill reads). Matches anywhere, so vLLM's
 * `cmpl-` prefix and `-0-1a2b3c4d` suffixes are fine. The result is *not* validated: it is what vLLM
 * would use, so a badly built id shows up here as the same wrong host vLLM would dial. `text` is
 * Python's `f"{ip}:{int(port)}"`.
 * @example
 * parseRequestId('cmpl-___prefill_addr_10.0.1.2:21001___decode_addr_10.0.1.3:22001_abc-0-1a2b3c4d');
 * // { prefill: { host: '10.0.1.2', port: 21001, text: '10.0.1.2:21001' },
 * //   decode: { host: '10.0.1.3', port: 22001, text: '10.0.1.3:22001' } }
 */
export function parseRequestId(id: string): RequestIdAddresses {
  const prefill = matchAddress(PREFILL_PATTERN, id);
  const decode = matchAddress(DECODE_PATTERN, id);
  if (prefill === undefined) return decode === undefined ? {} : { decode };
  return decode === undefined ? { prefill } : { prefill, decode };
}

function matchAddress(pattern: RegExp, id: string): ZmqAddress | undefined {
  // Cheap guard: most ids seen by a mock or a log line carry no marker at all.
  if (!id.includes(pattern === PREFILL_PATTERN ? PREFILL_MARK : DECODE_MARK)) return undefined;
  const match = pattern.exec(id);
  if (match === null) return undefined;
  const host = match[1]!;
  const digits = pythonIntText(match[2]!);
  if (digits === undefined) return undefined;
  return { host, port: Number(digits), text: `${host}:${digits}` };
}

/** `str(int(s))` for a string of Unicode decimal digits; undefined where CPython's int() raises. */
function pythonIntText(s: string): string | undefined {
  let ascii = s;
  if (!ASCII_DIGITS.test(s)) {
    ascii = '';
    for (const ch of s) ascii += String(unicodeDigitValue(ch.codePointAt(0)!));
  }
  if (ascii.length > PYTHON_INT_MAX_STR_DIGITS) return undefined;
  const trimmed = ascii.replace(/^0+/, '');
  return trimmed === '' ? '0' : trimmed;
}

/**
 * Unicode lays out every decimal-digit (Nd) set as ten consecutive code points 0-9, and adjacent sets
 * (e.g. the mathematical digits U+1D7CE-U+1D7FF) start on a multiple of ten from the run's start.
 */
function unicodeDigitValue(codePoint: number): number {
  let start = codePoint;
  while (ND_DIGIT.test(String.fromCodePoint(start - 1))) start--;
  return (codePoint - start) % 10;
}
