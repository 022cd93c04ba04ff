import { formatDiff } from './format-diff.js';
import { asBuffer, bytesToLatin1, headerPairs, latin1ToBytes } from './http-message.js';
import { matchRequestId, UUID_PLACEHOLDER, UUID4 } from './request-id-rule.js';
import {
  BOOTSTRAP_PLACEHOLDER,
  type Check,
  type CompareOptions,
  type GoldenExchange,
  type RawRequest,
  type Verdict,
} from './types.js';

/** Hop-by-hop headers: a client library's choice, so present or absent either way. */
const OPTIONAL_EITHER_WAY = new Set(['connection', 'keep-alive']);
/** The only headers a router may send beside the reference's. */
const ALLOWED_EXTRA = new Set(['connection', 'keep-alive', 'traceparent', 'tracestate']);
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+):\d{1,5}$/;
const UUID4_LENGTH = 36;
/** A Mooncake decode body's bootstrap address, as a router writes it (`http://host:port`). */
const BOOTSTRAP_VALUE =
  /"remote_bootstrap_addr": "(http:\/\/(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+):\d{1,5})"/;

/**
 * The bootstrap address a Mooncake decode body must carry: the one the caller names, else the one the
 * received body holds when it has the right shape (the rest of the body is then still compared).
 */
export function bootstrapAddrOf(body: Uint8Array, opts: CompareOptions): string {
  if (opts.bootstrapAddr !== undefined) return opts.bootstrapAddr;
  return BOOTSTRAP_VALUE.exec(bytesToLatin1(body))?.[1] ?? BOOTSTRAP_PLACEHOLDER;
}

interface Prepared {
  /** Golden body (latin1) split at `{uuid}`; a single part when the body has no placeholder. */
  readonly bodyParts: readonly string[];
  /** Lower-case names the router must send. */
  readonly required: ReadonlySet<string>;
  readonly values: readonly { readonly lower: string; readonly value: string }[];
}

// Golden exchanges are immutable and long-lived: prepare each once, not per received request.
const preparedCache = new WeakMap<GoldenExchange, Prepared>();

function prepare(golden: GoldenExchange): Prepared {
  let p = preparedCache.get(golden);
  if (p === undefined) {
    const values = golden.headers
      .map(([name, value]) => ({ lower: name.toLowerCase(), value }))
      .filter((h) => !OPTIONAL_EITHER_WAY.has(h.lower));
    p = {
      bodyParts: bytesToLatin1(golden.body).split(UUID_PLACEHOLDER),
      required: new Set(values.map((h) => h.lower)),
      values,
    };
    preparedCache.set(golden, p);
  }
  return p;
}

// NIXL: when the id header is unusable, read the id where the body should hold it, so that the body
// check reports the body's own faults rather than repeating the header's.
function idFromBody(parts: readonly string[], body: Uint8Array): string | undefined {
  const lead = parts[0] ?? '';
  const text = bytesToLatin1(body.subarray(0, lead.length + UUID4_LENGTH));
  if (!text.startsWith(lead)) return undefined;
  const id = text.slice(lead.length);
  return UUID4.test(id) ? id : undefined;
}

function check(name: string, ok: boolean, detail?: string): Check {
  return ok || detail === undefined ? { name, ok } : { name, ok, detail };
}

function quote(value: string | undefined): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}

function envNote(apiKey: string | null): string {
  return apiKey === null ? 'OPENAI_API_KEY unset' : `OPENAI_API_KEY=${JSON.stringify(apiKey)}`;
}

/**
 * Compares one received upstream request with one golden request under the acceptance rules
 * (`shared/acceptance/README.md`): request line, body byte for byte, header names (case-insensitive,
 * `Connection`/`Keep-Alive` optional, only `Connection`, `Keep-Alive`, `traceparent`, `tracestate`
 * added, none twice, no chunked body) and header values (exact, except `Host`, `User-Agent` and the
 * `{uuid}` of `X-Request-Id`). Pure.
 *
 * @example
 * const v = compareRequest(cases[0].rounds[0].prefill, received, { workerHostHeader: '127.0.0.1:41234' });
 * if (!v.ok) console.log(v.diff);
 */
export function compareRequest(golden: GoldenExchange, req: RawRequest, opts: CompareOptions = {}): Verdict {
  const p = prepare(golden);
  const actual = headerPairs(req.rawHeaders);
  const got = new Map<string, string>();
  const duplicates: string[] = [];
  for (const [name, value] of actual) {
    const lower = name.toLowerCase();
    if (got.has(lower)) duplicates.push(name);
    else got.set(lower, value);
  }

  const id = matchRequestId(
    golden.requestIdTemplate,
    golden.kind,
    got.get('x-request-id'),
    golden.kind === 'p2p-nccl' ? opts.expectedZmq : undefined,
  );
  const middle =
    (id.ok ? id.middle : undefined) ??
    (golden.kind !== 'p2p-nccl' && p.bodyParts.length > 1 ? idFromBody(p.bodyParts, req.body) : undefined) ??
    id.middle ??
    UUID_PLACEHOLDER;
  let expected = p.bodyParts.length > 1 ? p.bodyParts.join(middle) : undefined;
  if (golden.kind === 'mooncake' && golden.role === 'decode') {
    const text = expected ?? bytesToLatin1(golden.body);
    if (text.includes(BOOTSTRAP_PLACEHOLDER)) {
      expected = text.split(BOOTSTRAP_PLACEHOLDER).join(bootstrapAddrOf(req.body, opts));
    }
  }
  const expectedBody = expected === undefined ? golden.body : latin1ToBytes(expected);

  const checks: Check[] = [];
  const wantLine = `${golden.method} ${golden.target}`;
  const gotLine = `${req.method} ${req.path}`;
  checks.push(check('request-line', gotLine === wantLine, `got ${quote(gotLine)}, want ${quote(wantLine)}`));

  const missing = [...p.required].filter((n) => !got.has(n));
  const extra = [...got.keys()].filter((n) => !p.required.has(n) && !ALLOWED_EXTRA.has(n));
  const names = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(extra.length > 0 ? [`not allowed ${extra.map((n) => `${n}: ${quote(got.get(n))}`).join(', ')}`] : []),
  ];
  checks.push(check('header-names', names.length === 0, names.join('; ')));
  checks.push(check('no-duplicate-headers', duplicates.length === 0, `sent twice: ${duplicates.join(', ')}`));
  const te = got.get('transfer-encoding');
  checks.push(
    check('no-chunked-body', te === undefined, `Transfer-Encoding: ${te ?? ''} (want Content-Length)`),
  );

  for (const { lower, value } of p.values) {
    const v = got.get(lower);
    const name = `header:${lower}`;
    if (lower === 'x-request-id') {
      checks.push(check(name, id.ok, id.detail));
    } else if (lower === 'host') {
      const want = opts.workerHostHeader;
      const ok = v !== undefined && (want === undefined ? HOST_PORT.test(v) : v === want);
      checks.push(check(name, ok, `got ${quote(v)}, want ${want === undefined ? 'host:port' : quote(want)}`));
    } else if (lower === 'content-length') {
      // The length of the body it must have (a Mooncake bootstrap address may differ in length).
      const want = String(expectedBody.length);
      checks.push(check(name, v === want, `got ${quote(v)}, want ${quote(want)}`));
    } else if (lower === 'user-agent') {
      checks.push(check(name, v !== undefined && v !== '', `got ${quote(v)}, want any non-empty value`));
    } else {
      const want = value.split(UUID_PLACEHOLDER).join(middle);
      const note = lower === 'authorization' ? ` (captured with ${envNote(golden.apiKey)})` : '';
      checks.push(check(name, v === want, `got ${quote(v)}, want ${quote(want)}${note}`));
    }
  }

  const bodyOk = asBuffer(req.body).equals(asBuffer(expectedBody));
  const bodyDiff = bodyOk ? undefined : formatDiff(expectedBody, req.body);
  checks.push(check('body', bodyOk, bodyDiff?.split('\n')[0]));

  const ok = checks.every((c) => c.ok);
  const verdict = {
    case: golden.case,
    role: golden.role,
    ...(golden.index === undefined ? {} : { index: golden.index }),
    ok,
    checks,
  };
  if (ok) return verdict;
  return { ...verdict, diff: describeFailures(golden, checks, bodyDiff) };
}

function describeFailures(
  golden: GoldenExchange,
  checks: readonly Check[],
  bodyDiff: string | undefined,
): string {
  const round = golden.index === undefined ? '' : ` #${golden.index}`;
  const lines = [`${golden.role} request differs from golden ${golden.case}${round} (${golden.file}):`];
  for (const c of checks) {
    if (c.ok) continue;
    if (c.name === 'body' && bodyDiff !== undefined) {
      lines.push(...bodyDiff.split('\n').map((l, i) => (i === 0 ? `  body: ${l}` : `    ${l}`)));
    } else {
      lines.push(`  ${c.name}: ${c.detail ?? 'failed'}`);
    }
  }
  return lines.join('\n');
}
