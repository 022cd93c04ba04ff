import { Ajv } from 'ajv';
import { MockVllmError } from './errors.js';

/** Which requests a fault touches: completion routes only (default), or every non-admin route. */
export type FaultScope = 'completions' | 'all';

interface FaultBase {
  /** Apply to the next N matching requests (connections, for `refuse`), then drop. Absent = until cleared. */
  readonly times?: number;
}

/**
 * A failure the mock can inject. Every kind is switchable at runtime (`setFaults()` or
 * `POST /_mock/faults`) and at start (option `faults`, CLI `--fault`).
 */
export type FaultSpec =
  /** Answer with this status and vLLM's error body instead of serving the request. */
  | (FaultBase & {
      readonly kind: 'status';
      readonly status: number;
      readonly message?: string;
      readonly scope?: FaultScope;
    })
  /** Refuse connections: `close` shuts the listener (ECONNREFUSED) for `durationMs` or until cleared;
   * `destroy` accepts and immediately destroys each socket (a reset), `times` connections. */
  | (FaultBase & {
      readonly kind: 'refuse';
      readonly mode?: 'close' | 'destroy';
      readonly durationMs?: number;
    })
  /** Read the request, then never answer (the socket stays open until the client or close() ends it). */
  | (FaultBase & { readonly kind: 'hang'; readonly scope?: FaultScope })
  /** Wait this long before sending the status line and headers. */
  | (FaultBase & { readonly kind: 'slow-headers'; readonly delayMs: number; readonly scope?: FaultScope })
  /** Destroy the socket after N SSE events (for JSON answers: after the headers and half the body when N > 0). */
  | (FaultBase & { readonly kind: 'reset-after'; readonly events: number })
  /** Emit one broken SSE frame (truncated JSON, no blank-line terminator) before event index `at` (default 1). */
  | (FaultBase & { readonly kind: 'malformed-sse'; readonly at?: number })
  /** Pause `ms` once, before event index `after` (default 1: after the first token). JSON answers: before the body. */
  | (FaultBase & { readonly kind: 'stall'; readonly ms: number; readonly after?: number })
  /** A prefill instance skips its "KV ready" message, so the paired decode waits (and times out or hangs).
   * NIXL: the prefill answers its params but drops the blocks, so the decode's read finds nothing. */
  | (FaultBase & { readonly kind: 'kv-never-arrives' })
  /** NIXL prefill: the first token "was EOS": finish_reason stop and `kv_transfer_params: null`, nothing held. */
  | (FaultBase & { readonly kind: 'nixl-no-params' })
  /** NIXL prefill: holds the blocks but answers params without `remote_engine_id`. */
  | (FaultBase & { readonly kind: 'nixl-bad-params' })
  /** NIXL prefill: its side channel refuses reads (`times` counts reads); the blocks stay held. */
  | (FaultBase & { readonly kind: 'nixl-refuse-reads' })
  /** Mooncake prefill: its bootstrap server resets the connection of each request (`times` counts
   * requests), as one that is not up yet; `mode: 'empty'` answers `/query` with `{}` instead, as vLLM's does before
   * any worker has registered. */
  | (FaultBase & { readonly kind: 'mooncake-bootstrap-down'; readonly mode?: 'reset' | 'empty' })
  /** Answer a completion with exactly this status (default 200), Content-Type (default
   * application/json; '' sends none) and raw body, JSON or stream request alike, instead of
   * generating: what a broken proxy or a misconfigured vLLM in front of a router produces. */
  | (FaultBase & {
      readonly kind: 'body';
      readonly body: string;
      readonly status?: number;
      readonly contentType?: string;
    });

export type FaultKind = FaultSpec['kind'];

const nonNegInt = { type: 'integer', minimum: 0 } as const;
const times = { type: 'integer', minimum: 1 } as const;
const scope = { enum: ['completions', 'all'] } as const;

function variant(
  kind: string,
  props: Record<string, unknown>,
  required: string[] = [],
): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['kind', ...required],
    properties: { kind: { const: kind }, times, ...props },
  };
}

const FAULT_SCHEMA = {
  oneOf: [
    variant(
      'status',
      { status: { type: 'integer', minimum: 400, maximum: 599 }, message: { type: 'string' }, scope },
      ['status'],
    ),
    variant('refuse', { mode: { enum: ['close', 'destroy'] }, durationMs: nonNegInt }),
    variant('hang', { scope }),
    variant('slow-headers', { delayMs: nonNegInt, scope }, ['delayMs']),
    variant('reset-after', { events: nonNegInt }, ['events']),
    variant('malformed-sse', { at: nonNegInt }),
    variant('stall', { ms: nonNegInt, after: nonNegInt }, ['ms']),
    variant('kv-never-arrives', {}),
    variant('nixl-no-params', {}),
    variant('nixl-bad-params', {}),
    variant('nixl-refuse-reads', {}),
    variant('mooncake-bootstrap-down', { mode: { enum: ['reset', 'empty'] } }),
    variant(
      'body',
      {
        body: { type: 'string' },
        status: { type: 'integer', minimum: 200, maximum: 599 },
        contentType: { type: 'string' },
      },
      ['body'],
    ),
  ],
};

const validateFault = new Ajv({ allErrors: false }).compile(FAULT_SCHEMA);

/**
 * Checks one fault object (from JSON or code) and returns it typed, or throws `PD_ERR_MOCK_FAULT_INVALID`.
 *
 * @example
 * const fault = toFaultSpec({ kind: 'status', status: 503, times: 2 });
 */
export function toFaultSpec(value: unknown): FaultSpec {
  if (!validateFault(value)) {
    const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
    throw new MockVllmError(
      'PD_ERR_MOCK_FAULT_INVALID',
      `invalid fault ${JSON.stringify(value)}: expected one of the documented kinds with their fields` +
        (typeof kind === 'string' ? ` (kind "${kind}")` : ''),
    );
  }
  const fault = value as FaultSpec;
  if (fault.kind === 'refuse' && fault.mode !== 'destroy' && fault.times !== undefined) {
    throw new MockVllmError(
      'PD_ERR_MOCK_FAULT_INVALID',
      'refuse with mode "close" takes durationMs, not times (a closed listener cannot count connections)',
    );
  }
  return fault;
}

/** Accepts one fault or a list (or `{ faults: [...] }`, the admin endpoint's body) and validates each. */
export function toFaultSpecs(value: unknown): FaultSpec[] {
  if (Array.isArray(value)) return value.map(toFaultSpec);
  if (typeof value === 'object' && value !== null && Array.isArray((value as { faults?: unknown }).faults)) {
    return ((value as { faults: unknown[] }).faults ?? []).map(toFaultSpec);
  }
  return [toFaultSpec(value)];
}

const NUMERIC_FIELD: Partial<Record<FaultKind, string>> = {
  status: 'status',
  'slow-headers': 'delayMs',
  'reset-after': 'events',
  'malformed-sse': 'at',
  stall: 'ms',
  refuse: 'durationMs',
};

/** CLI keys whose values stay strings. */
const STRING_KEYS = new Set(['mode', 'scope', 'message', 'contentType']);

/**
 * Parses the CLI form `kind[=value][,key=value...]`, e.g. `status=503,times=2`, `stall=2000,after=3`,
 * `refuse=1500` (close the listener for 1.5 s), `refuse,mode=destroy,times=1`, `hang`, `kv-never-arrives`,
 * `nixl-no-params`, `nixl-bad-params`, `nixl-refuse-reads,times=1`, `mooncake-bootstrap-down,times=3`,
 * `mooncake-bootstrap-down,mode=empty`.
 *
 * A raw body may hold commas, so for `body` the body comes last and runs to the end of the text:
 * `body=[1,2]`, `body,status=502,contentType=text/html,body=<html>a, b</html>`. A text starting
 * with `{` is read as the fault's JSON object.
 *
 * @example
 * parseFaultArg('slow-headers=500') // { kind: 'slow-headers', delayMs: 500 }
 * parseFaultArg('body,times=2,body={"a":1,"b":2}') // { kind: 'body', times: 2, body: '{"a":1,"b":2}' }
 */
export function parseFaultArg(text: string): FaultSpec {
  if (text.trimStart().startsWith('{')) return toFaultSpec(parseJsonFault(text));
  const { fields, body } = splitBody(text);
  const [head = '', ...rest] = fields.split(',');
  const eq = head.indexOf('=');
  const kind = (eq === -1 ? head : head.slice(0, eq)).trim();
  const out: Record<string, unknown> = { kind };
  if (eq !== -1) {
    const field = NUMERIC_FIELD[kind as FaultKind];
    if (field === undefined) {
      throw new MockVllmError('PD_ERR_MOCK_FAULT_INVALID', `fault "${kind}" takes no value: "${text}"`);
    }
    out[field] = toNumber(head.slice(eq + 1), text);
  }
  for (const part of rest) {
    const i = part.indexOf('=');
    if (i === -1) throw new MockVllmError('PD_ERR_MOCK_FAULT_INVALID', `expected key=value in "${text}"`);
    const key = part.slice(0, i).trim();
    const raw = part.slice(i + 1).trim();
    out[key] = STRING_KEYS.has(key) ? raw : toNumber(raw, text);
  }
  if (body !== undefined) out['body'] = body;
  return toFaultSpec(out);
}

/** Splits off a `body` fault's raw body (taken verbatim, commas and spaces kept) from its other fields. */
function splitBody(text: string): { fields: string; body?: string } {
  if (text.startsWith('body=')) return { fields: 'body', body: text.slice('body='.length) };
  if (!text.startsWith('body,')) return { fields: text };
  const at = text.indexOf(',body=');
  if (at === -1) return { fields: text };
  return { fields: text.slice(0, at), body: text.slice(at + ',body='.length) };
}

function parseJsonFault(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MockVllmError('PD_ERR_MOCK_FAULT_INVALID', `fault "${text}" is not valid JSON`);
  }
}

function toNumber(raw: string, text: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw new MockVllmError('PD_ERR_MOCK_FAULT_INVALID', `not a number "${raw}" in fault "${text}"`);
  }
  return n;
}
