/**
 * Python-compatible JSON: `json.dumps(json.loads(body.decode('utf-8', errors='replace')))`, byte for
 * byte, which is what vLLM's P2P NCCL reference proxy sends upstream (docs/reference-proxy.md).
 */
import {
  byteOffsetOf,
  type JsonSource,
  pythonBytesSource,
  utf8ReplaceSource,
} from './canonical-json-decode.js';
import { LazyPyObject } from './canonical-json-lazy.js';
import { AsciiOut } from './canonical-json-out.js';
import {
  PAUSED,
  ParseFailure,
  type ParseLimits,
  parseSource,
  SourceParser,
  skipWhitespace,
  WRITTEN,
} from './canonical-json-parse.js';
import { pyQuote } from './canonical-json-serialize.js';
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

function validLimits(options: ParseOptions | undefined): ParseLimits {
  const maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new RangeError(`ParseOptions.maxDepth must be a positive integer, got ${String(maxDepth)}`);
  }
  const maxElements = options?.maxElements ?? Number.POSITIVE_INFINITY;
  if (!(maxElements === Number.POSITIVE_INFINITY || (Number.isInteger(maxElements) && maxElements >= 1))) {
    throw new RangeError(`ParseOptions.maxElements must be a positive integer, got ${String(maxElements)}`);
  }
  return { maxDepth, maxElements };
}

function failure(code: CoreErrorCode, message: string, position: number): { ok: false; error: CoreError } {
  return err(new CoreError(code, `${message} at byte ${position}`, { statusCode: BAD_REQUEST, position }));
}

type Failure = { ok: false; error: CoreError };

/** The body's text as the parser scans it, or why it cannot be (encoding, a BOM json.loads(str) refuses). */
function openSource(input: Uint8Array, options: ParseOptions | undefined): JsonSource | Failure {
  const source = options?.encoding === 'python-bytes' ? pythonBytesSource(input) : utf8ReplaceSource(input);
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
  return source;
}

/** The error for a failed parse (Python decodes the whole body before parsing: see below). */
function parseError(source: JsonSource, input: Uint8Array, value: ParseFailure): Failure {
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

/** What a valid document whose first character is `c` is, for the not-an-object message. */
function kindOf(c: number): string {
  if (c === 0x5b) return 'an array';
  if (c === 0x6e) return 'null';
  if (c === 0x22) return 'a string';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  return 'a number';
}

/** Checks that a parsed document is an object (json.loads succeeded, then the caller's isinstance). */
function objectCheck(source: JsonSource): Failure | undefined {
  const first = skipWhitespace(source.scan, source.start);
  const c = source.scan.charCodeAt(first);
  if (c === 0x7b) return undefined;
  const position = byteOffsetOf(source, first);
  return failure('PD_ERR_JSON_NOT_OBJECT', `The body must be a JSON object, not ${kindOf(c)}`, position);
}

function parse(
  input: Uint8Array,
  options: ParseOptions | undefined,
  requireObject: boolean,
): Result<PyValue> {
  const limits = validLimits(options);
  const source = openSource(input, options);
  if (!('scan' in source)) return source;
  const value = parseSource(source, input, limits);
  if (value instanceof ParseFailure) return parseError(source, input, value);
  return (requireObject && objectCheck(source)) || ok(value);
}

/** What a request parse produces, and how much of it is wanted. */
enum Want {
  Decode = 1,
  Prefill = 2,
  Both = 3,
}

/**
 * `json.dumps` of the body written in one pass (see SourceParser's writer mode), resumable: each
 * `step` scans about the given number of bytes more, so a large body can be canonicalized in
 * slices with the event loop free in between. Memory is the input, the output and the open
 * objects' keys, whatever the document's shape.
 *
 * @example
 * const job = new CanonicalRequestJob(bytes, { maxElements: 1_000_000 });
 * while (!job.step(1 << 20)) await new Promise((r) => setImmediate(r));
 * const result = job.result(); // as canonicalRequest(bytes, options)
 */
export class CanonicalRequestJob {
  readonly #input: Uint8Array;
  readonly #want: Want;
  readonly #requireObject: boolean;
  #source: JsonSource | undefined;
  #parser: SourceParser | undefined;
  #out: AsciiOut | undefined;
  #result: Result<CanonicalRequest> | Result<string> | undefined;

  /**
   * Rejects a non-object body, as canonicalRequest does. (`want` and `shared` are for this
   * module's synchronous functions: a shared scratch buffer is only safe when the job runs to
   * its end in one step.)
   */
  constructor(input: Uint8Array, options?: ParseOptions, want: Want = Want.Both, shared = false) {
    this.#input = input;
    this.#want = want;
    this.#requireObject = want !== Want.Decode;
    const limits = validLimits(options);
    const source = openSource(input, options);
    if (!('scan' in source)) {
      this.#result = source;
      return;
    }
    this.#source = source;
    // ", " and ": " make typical output a little longer than compact input.
    this.#out = new AsciiOut(input.length + (input.length >> 2) + 64, shared);
    this.#parser = new SourceParser(source, input, limits, this.#out);
  }

  /** Scans about `bytes` more bytes of the body; true once the result is ready. */
  step(bytes: number): boolean {
    const parser = this.#parser;
    const out = this.#out;
    const source = this.#source;
    if (this.#result !== undefined || parser === undefined || out === undefined || source === undefined) {
      return true;
    }
    const outcome = parser.run(parser.index + bytes);
    if (outcome === PAUSED) return false;
    try {
      this.#result =
        outcome === WRITTEN
          ? this.#finish(source, parser, out)
          : parseError(source, this.#input, outcome as ParseFailure);
    } finally {
      parser.release();
      out.release();
      this.#parser = undefined;
      this.#out = undefined;
      this.#source = undefined;
    }
    return true;
  }

  /** The outcome; only once `step` returned true. */
  result(): Result<CanonicalRequest> {
    if (this.#result === undefined) throw new Error('CanonicalRequestJob.result() before the last step');
    return this.#result as Result<CanonicalRequest>;
  }

  /** The outcome as text, for canonicalize (decode) and prefillBody (prefill). */
  text(): Result<string> {
    return this.#result as Result<string>;
  }

  #finish(
    source: JsonSource,
    parser: SourceParser,
    out: AsciiOut,
  ): Result<CanonicalRequest> | Result<string> {
    const check = this.#requireObject ? objectCheck(source) : undefined;
    if (check !== undefined) return check;
    if (this.#want === Want.Decode) return ok(out.text());
    const decode = out.text();
    const members = parser.topMembers;
    const parts: string[] = [];
    let hasMaxTokens = false;
    const count = members?.count ?? 0;
    const spans = members?.spans ?? new Int32Array(0);
    for (let m = 0; m < count; m++) {
      const key = members?.keys[m];
      const o = 5 * m;
      if (key === MAX_TOKENS || key === MAX_COMPLETION_TOKENS) {
        if (key === MAX_TOKENS) hasMaxTokens = true;
        // The key as written (`"max_tokens": `), then the edit.
        parts.push(decode.slice(spans[o], spans[o + 1]) + '1');
      } else {
        // Slices of the decode body share its memory until the join.
        parts.push(decode.slice(spans[o], spans[o + 2]));
      }
    }
    if (!hasMaxTokens) parts.push(MAX_TOKENS_MEMBER);
    const prefill = '{' + parts.join(', ') + '}';
    if (this.#want === Want.Prefill) return ok(prefill);
    return ok({ body: new LazyPyObject(members, this.#input, source), decode, prefill });
  }
}

function runSync(input: Uint8Array, options: ParseOptions | undefined, want: Want): CanonicalRequestJob {
  const job = new CanonicalRequestJob(input, options, want, true);
  job.step(Number.POSITIVE_INFINITY);
  return job;
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
  return runSync(input, options, Want.Decode).text();
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
  return runSync(input, options, Want.Prefill).text();
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
 * Parses once and returns the parsed body, the decode body and the prefill body. The bodies are
 * written in one pass without building values (memory: about the input plus the output, whatever
 * the shape); `body` parses a member only when it is read. Rejects non-objects. For large bodies,
 * `CanonicalRequestJob` does the same in slices.
 *
 * @example canonicalRequest(new TextEncoder().encode('{"n":1}')) // ok({ body, decode: '{"n": 1}', prefill: '{"n": 1, "max_tokens": 1}' })
 */
export function canonicalRequest(input: Uint8Array, options?: ParseOptions): Result<CanonicalRequest> {
  return runSync(input, options, Want.Both).result();
}
