/**
 * Python-compatible JSON: `json.dumps(json.loads(body.decode('utf-8', errors='replace')))`, byte for
 * byte, which is what vLLM's P2P NCCL reference proxy sends upstream (docs/reference-proxy.md).
 */
import {
  byteOffsetOf,
  type EncodingFailure,
  type JsonSource,
  pythonBytesSource,
  utf8ReplaceSource,
} from './canonical-json-decode.js';
import { ParseFailure, parseSource, skipWhitespace } from './canonical-json-parse.js';
import { pyQuote, serializeMember, serializePyJson } from './canonical-json-serialize.js';
import {
  DEFAULT_MAX_DEPTH,
  type ParseOptions,
  PyNumber,
  type PyObject,
  type PyValue,
} from './canonical-json-types.js';
import { firstInvalidUtf8 } from './canonical-json-utf8.js';
import { CoreError, type CoreErrorCode } from './errors.js';
import { err, ok, type Result } from './result.js';

export { serializePyJson } from './canonical-json-serialize.js';
export type { ParseOptions, PyObject, PyValue } from './canonical-json-types.js';
export { DEFAULT_MAX_DEPTH, PyNumber } from './canonical-json-types.js';

const BAD_REQUEST = 400;
const ONE = new PyNumber('1');
const MAX_TOKENS = 'max_tokens';
const MAX_COMPLETION_TOKENS = 'max_completion_tokens';
const MAX_TOKENS_MEMBER = pyQuote(MAX_TOKENS) + ': 1';

function validMaxDepth(options: ParseOptions | undefined): number {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new RangeError(`ParseOptions.maxDepth must be a positive integer, got ${String(maxDepth)}`);
  }
  return maxDepth;
}

function sourceOf(input: Uint8Array, options: ParseOptions | undefined): JsonSource | EncodingFailure {
  return options?.encoding === 'python-bytes' ? pythonBytesSource(input) : utf8ReplaceSource(input);
}

function failure(code: CoreErrorCode, message: string, position: number): { ok: false; error: CoreError } {
  return err(new CoreError(code, `${message} at byte ${position}`, { statusCode: BAD_REQUEST, position }));
}

function parse(
  input: Uint8Array,
  options: ParseOptions | undefined,
  requireObject: boolean,
): Result<PyValue> {
  const maxDepth = validMaxDepth(options);
  const source = sourceOf(input, options);
  if (!('scan' in source)) return failure('PD_ERR_JSON_ENCODING', source.message, source.position);
  // json.loads(str) refuses a leading BOM; json.loads(bytes) strips a UTF-8 one while decoding.
  if (
    source.kind === 'utf8' &&
    !source.strict &&
    input[0] === 0xef &&
    input[1] === 0xbb &&
    input[2] === 0xbf
  ) {
    return failure('PD_ERR_JSON_SYNTAX', 'Unexpected UTF-8 BOM', 0);
  }
  const value = parseSource(source, input, maxDepth);
  if (!(value instanceof ParseFailure)) {
    if (!requireObject || value instanceof Map) return ok(value);
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    const position = byteOffsetOf(source, skipWhitespace(source.scan, source.start));
    return failure('PD_ERR_JSON_NOT_OBJECT', `The body must be a JSON object, not ${kind}`, position);
  }
  if (source.kind === 'utf8' && source.strict) {
    // Python decodes the whole body before parsing, so any undecodable byte wins over syntax.
    const invalid = firstInvalidUtf8(input, source.start, input.length);
    if (invalid !== -1) {
      const byte = (input[invalid] as number).toString(16).padStart(2, '0');
      return failure('PD_ERR_JSON_ENCODING', `'utf-8' codec can't decode byte 0x${byte}`, invalid);
    }
  }
  return failure(value.code, value.message, byteOffsetOf(source, value.index));
}

function parseObject(input: Uint8Array, options: ParseOptions | undefined): Result<PyObject> {
  // parse() with requireObject returns only Maps as values.
  return parse(input, options, true) as Result<PyObject>;
}

/**
 * Parses a body as Python's `json.loads` does (see `ParseOptions.encoding`). Objects are `Map`s in
 * dict order (a duplicate key keeps its first position and takes its last value), numbers are
 * `PyNumber`s holding Python's output text. Never throws on bad input: syntax, depth (default
 * `maxDepth` 512) and encoding problems come back as a `CoreError` with the byte `position`.
 * Throws RangeError only for an invalid `maxDepth` option (a programming error).
 *
 * @example parsePyJson(new TextEncoder().encode('{"a": 1E5}')) // ok(Map { 'a' => PyNumber('100000.0') })
 */
export function parsePyJson(input: Uint8Array, options?: ParseOptions): Result<PyValue> {
  return parse(input, options, false);
}

/**
 * The decode body: `json.dumps(json.loads(body.decode('utf-8', errors='replace')))`. Any JSON value
 * is accepted (Python's round trip does not require an object).
 *
 * @example canonicalize(new TextEncoder().encode('{"x":1e16,"y":"é"}')) // ok('{"x": 1e+16, "y": "\\u00e9"}')
 */
export function canonicalize(input: Uint8Array, options?: ParseOptions): Result<string> {
  const parsed = parse(input, options, false);
  return parsed.ok ? ok(serializePyJson(parsed.value)) : parsed;
}

/**
 * A copy of `body` edited as the P2P NCCL proxy edits the prefill request: `max_tokens` becomes 1
 * in place (appended last when absent); `max_completion_tokens` becomes 1 in place, only if present.
 *
 * @example withPrefillEdits(new Map([['max_tokens', null], ['n', 2]])) // Map { max_tokens → 1, n → 2 }
 */
export function withPrefillEdits(body: PyObject): PyObject {
  const copy: PyObject = new Map(body);
  copy.set(MAX_TOKENS, ONE);
  if (copy.has(MAX_COMPLETION_TOKENS)) copy.set(MAX_COMPLETION_TOKENS, ONE);
  return copy;
}

/**
 * The prefill body: the canonical body with `withPrefillEdits` applied. The top level must be an
 * object (`PD_ERR_JSON_NOT_OBJECT` otherwise).
 *
 * @example prefillBody(new TextEncoder().encode('{"max_tokens":50,"n":1}')) // ok('{"max_tokens": 1, "n": 1}')
 */
export function prefillBody(input: Uint8Array, options?: ParseOptions): Result<string> {
  const parsed = parseObject(input, options);
  return parsed.ok ? ok(serializePyJson(withPrefillEdits(parsed.value))) : parsed;
}

/** Both bodies of one proxied request, from one parse. */
export interface CanonicalRequest {
  /** The parsed client body (unedited). */
  readonly body: PyObject;
  /** Canonical original: what the decode worker receives. */
  readonly decode: string;
  /** Canonical body with the prefill edits: what the prefill worker receives. */
  readonly prefill: string;
}

/**
 * Parses once and returns the parsed body, the decode body and the prefill body. Each top-level
 * value is serialized once; only the member lists are joined twice. Rejects non-objects.
 *
 * @example canonicalRequest(new TextEncoder().encode('{"n":1}')) // ok({ body, decode: '{"n": 1}', prefill: '{"n": 1, "max_tokens": 1}' })
 */
export function canonicalRequest(input: Uint8Array, options?: ParseOptions): Result<CanonicalRequest> {
  const parsed = parseObject(input, options);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  const members: string[] = [];
  const prefillMembers: string[] = [];
  let hasMaxTokens = false;
  for (const [key, value] of body) {
    const member = serializeMember(key, value, input.length);
    members.push(member);
    if (key === MAX_TOKENS || key === MAX_COMPLETION_TOKENS) {
      if (key === MAX_TOKENS) hasMaxTokens = true;
      prefillMembers.push(pyQuote(key) + ': 1');
    } else {
      prefillMembers.push(member);
    }
  }
  if (!hasMaxTokens) prefillMembers.push(MAX_TOKENS_MEMBER);
  return ok({ body, decode: '{' + members.join(', ') + '}', prefill: '{' + prefillMembers.join(', ') + '}' });
}
