import type { FaultSpec } from '@pd-router/mock-vllm';
import { type ClientOutcome, formatOutcome } from '../report/outcome.js';
import type { Scenario } from '../report/scenario.js';
import { NIXL_FAULT_CASES } from './faults-nixl.js';

/** The router's leg budgets in the fault runs (ms): short, so timeouts cost little CI time. */
export const FAULT_BUDGETS = {
  prefillTimeoutMs: 600,
  decodeTtftTimeoutMs: 600,
  streamIdleTimeoutMs: 600,
  /** The decode mock's KV wait (error mode): below the TTFT budget, so its own 500 is what answers. */
  kvWaitTimeoutMs: 300,
} as const;

/** Which budget bounds a scenario's time to answer. */
export type Budget = 'none' | 'prefill' | 'ttft' | 'ttft+idle' | 'kv-wait';

/** The time a budget allows (ms): 0 for `none`, the sum of both for `ttft+idle`. */
export function budgetMs(budget: Budget): number {
  switch (budget) {
    case 'none':
      return 0;
    case 'prefill':
      return FAULT_BUDGETS.prefillTimeoutMs;
    case 'ttft':
      return FAULT_BUDGETS.decodeTtftTimeoutMs;
    case 'ttft+idle':
      return FAULT_BUDGETS.decodeTtftTimeoutMs + FAULT_BUDGETS.streamIdleTimeoutMs;
    case 'kv-wait':
      return FAULT_BUDGETS.kvWaitTimeoutMs;
  }
}

/**
 * Which stack the case runs on: P2P NCCL (the default one, or one whose decode waits for KV
 * forever), or NIXL (`--nixl-on-missing-params` recompute, the default, or fail).
 */
export type FaultStack = 'default' | 'kv-hang' | 'nixl' | 'nixl-fail';

const STACK_NOTES: Readonly<Record<FaultStack, string>> = {
  default: '',
  'kv-hang': ' (decode in `kvMode: hang`)',
  nixl: ' (NIXL)',
  'nixl-fail': ' (NIXL, `--nixl-on-missing-params fail`)',
};

export interface FaultCase {
  readonly name: string;
  readonly role: 'prefill' | 'decode';
  readonly fault: FaultSpec;
  readonly stack: FaultStack;
  readonly json: ClientOutcome;
  readonly stream: ClientOutcome;
  readonly budget: Budget;
  /** The streaming run's budget, when it differs (a stall after the first event meets the idle timeout). */
  readonly streamBudget?: Budget;
  /** A prefill failure: no decode may be sent. */
  readonly noDecode: boolean;
  /** NIXL: what the decode mock must record (`received[0].nixl`): `path` or `path (reason)`. */
  readonly decodeNixl?: string;
  readonly note?: string;
}

const SLOW_MS = 1_500;
/** vLLM's in-stream error (`create_streaming_error_response`) after a 200, then `[DONE]`. */
const PREFILL_ERROR_EVENT =
  'data: {"error": {"message": "engine step failed", "type": "InternalServerError", "param": null, "code": 500}}\n\ndata: [DONE]\n\n';
/** A stream cut short by a broken proxy: events, `[DONE]`, but no choice ever finished. */
const PREFILL_UNFINISHED =
  'data: {"id":"cmpl-1","choices":[{"index":0,"text":" tok0","logprobs":null,"finish_reason":null}]}\n\n';

function err(status: number, code: string): ClientOutcome {
  return { status, code, end: 'body' };
}
const OK_JSON: ClientOutcome = { status: 200, end: 'body' };
const OK_SSE: ClientOutcome = { status: 200, end: 'done' };

type Leg = FaultCase['role'];

function row(
  role: Leg,
  name: string,
  fault: FaultSpec,
  json: ClientOutcome,
  stream: ClientOutcome,
  budget: Budget,
): FaultCase {
  // A prefill that did not answer 200 gives the decode nothing to run on.
  const noDecode = role === 'prefill' && json.status !== 200;
  return { name, role, fault, stack: 'default', json, stream, budget, noDecode };
}
const prefill = (...args: DropFirst<Parameters<typeof row>>) => row('prefill', ...args);
const decode = (...args: DropFirst<Parameters<typeof row>>) => row('decode', ...args);
type DropFirst<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;

function same(o: ClientOutcome): [ClientOutcome, ClientOutcome] {
  return [o, o];
}

/** A prefill answering `status`: the client gets `answer` with `code`, and no decode is sent. */
function prefillStatus(status: number, answer: number, code: string): FaultCase {
  return prefill(`status-${status}`, { kind: 'status', status }, ...same(err(answer, code)), 'none');
}

/** A decode answering `status`: relayed to the client as is. */
function decodeStatus(status: number): FaultCase {
  const relayed: ClientOutcome = { status, code: String(status), end: 'body' };
  return decode(`status-${status}`, { kind: 'status', status }, ...same(relayed), 'none');
}

/**
 * The connection faults each leg meets alike: a refused or reset connection is the leg's
 * UNAVAILABLE, a silent one its TIMEOUT once `budget` (the leg's own) has passed.
 */
function connectionFaults(role: Leg, budget: Budget): FaultCase[] {
  const leg = role.toUpperCase();
  const unavailable = same(err(502, `PD_ERR_${leg}_UNAVAILABLE`));
  const timeout = same(err(504, `PD_ERR_${leg}_TIMEOUT`));
  return [
    row(role, 'refuse', { kind: 'refuse' }, ...unavailable, 'none'),
    row(role, 'refuse-destroy', { kind: 'refuse', mode: 'destroy' }, ...unavailable, 'none'),
    row(role, 'hang', { kind: 'hang' }, ...timeout, budget),
    row(role, 'slow-headers-over-budget', { kind: 'slow-headers', delayMs: SLOW_MS }, ...timeout, budget),
    row(role, 'slow-headers-within-budget', { kind: 'slow-headers', delayMs: 100 }, OK_JSON, OK_SSE, budget),
    row(role, 'reset-before-body', { kind: 'reset-after', events: 0 }, ...unavailable, 'none'),
  ];
}

/**
 * Every mock-vllm fault a P2P NCCL router can meet, on the prefill and on the decode. The NIXL
 * faults (`nixl-*`) are in faults-nixl.ts; the decode faults in NIXL mode in faults-nixl-decode.ts.
 */
const P2P_FAULT_CASES: readonly FaultCase[] = [
  prefillStatus(503, 503, 'PD_ERR_PREFILL_OVERLOADED'),
  prefillStatus(500, 502, 'PD_ERR_PREFILL_UPSTREAM_STATUS'),
  prefillStatus(400, 400, 'PD_ERR_PREFILL_REJECTED'),
  prefillStatus(429, 429, 'PD_ERR_PREFILL_REJECTED'),
  ...connectionFaults('prefill', 'prefill'),
  prefill(
    'reset-mid-body',
    { kind: 'reset-after', events: 1 },
    ...same(err(502, 'PD_ERR_PREFILL_UNAVAILABLE')),
    'none',
  ),
  prefill('malformed-sse', { kind: 'malformed-sse' }, OK_JSON, OK_SSE, 'none'),
  {
    ...prefill(
      'stream-error-event',
      { kind: 'body', contentType: 'text/event-stream', body: PREFILL_ERROR_EVENT },
      ...same(err(502, 'PD_ERR_PREFILL_STREAM_ERROR')),
      'none',
    ),
    note: 'a 200 whose stream carries an error event, as vLLM sends when generation fails: a quick coded error, no decode',
  },
  prefill(
    'stream-without-finish',
    { kind: 'body', contentType: 'text/event-stream', body: PREFILL_UNFINISHED },
    ...same(err(502, 'PD_ERR_PREFILL_STREAM_ERROR')),
    'none',
  ),
  prefill(
    'stall-over-budget',
    { kind: 'stall', ms: SLOW_MS },
    ...same(err(504, 'PD_ERR_PREFILL_TIMEOUT')),
    'prefill',
  ),
  {
    ...prefill(
      'kv-never-arrives',
      { kind: 'kv-never-arrives' },
      { status: 500, code: '500', end: 'body' },
      { status: 200, code: '500', end: 'error-event' },
      'kv-wait',
    ),
    // The decode was sent: the 500 is its own.
    noDecode: false,
    note: "the decode's own KV-wait error, relayed as is",
  },
  {
    ...prefill(
      'kv-never-arrives-decode-hangs',
      { kind: 'kv-never-arrives' },
      ...same(err(504, 'PD_ERR_DECODE_TIMEOUT')),
      'ttft',
    ),
    stack: 'kv-hang',
    noDecode: false,
  },
  decodeStatus(503),
  decodeStatus(400),
  ...connectionFaults('decode', 'ttft'),
  decode(
    'reset-mid-body',
    { kind: 'reset-after', events: 2 },
    { status: 200, end: 'broken' },
    { status: 200, code: 'PD_ERR_STREAM_BROKEN', end: 'error-event' },
    'none',
  ),
  decode('malformed-sse', { kind: 'malformed-sse' }, OK_JSON, OK_SSE, 'none'),
  decode(
    'stall-before-first-event',
    { kind: 'stall', ms: SLOW_MS, after: 0 },
    ...same(err(504, 'PD_ERR_DECODE_TIMEOUT')),
    'ttft',
  ),
  {
    ...decode(
      'stall-mid-stream',
      { kind: 'stall', ms: SLOW_MS, after: 1 },
      err(504, 'PD_ERR_DECODE_TIMEOUT'),
      { status: 200, code: 'PD_ERR_STREAM_IDLE', end: 'error-event' },
      'ttft',
    ),
    streamBudget: 'ttft+idle',
  },
];

/** The decode faults of a P2P NCCL router: faults-nixl-decode.ts runs the same ones in NIXL mode. */
export const P2P_DECODE_FAULT_CASES: readonly FaultCase[] = P2P_FAULT_CASES.filter(
  (c) => c.role === 'decode',
);

/** Every case: the P2P NCCL ones above, then the NIXL ones. */
export const FAULT_CASES: readonly FaultCase[] = [...P2P_FAULT_CASES, ...NIXL_FAULT_CASES];

/** The scenario id of a case in one mode. */
export function faultScenarioId(c: FaultCase, stream: boolean): string {
  return `faults/${c.role}/${c.name}/${stream ? 'stream' : 'json'}`;
}

/** The field each kind takes in mock-vllm's CLI form (`--fault status=503`, `stall=1500,after=1`). */
const PRIMARY_FIELD: Readonly<Record<string, string>> = {
  status: 'status',
  'slow-headers': 'delayMs',
  'reset-after': 'events',
  stall: 'ms',
};

/** A fault in mock-vllm's `--fault` form, as a Markdown code span. */
export function faultText(f: FaultSpec): string {
  const { kind, ...rest } = f;
  const fields = rest as Record<string, unknown>;
  const primary = PRIMARY_FIELD[kind];
  let text: string = kind;
  if (primary !== undefined) text += `=${String(fields[primary])}`;
  for (const [k, v] of Object.entries(fields)) if (k !== primary) text += `,${k}=${String(v)}`;
  return `\`${text}\``;
}

export const FAULT_SCENARIOS: readonly Scenario[] = FAULT_CASES.flatMap((c) =>
  [false, true].map((stream) => ({
    id: faultScenarioId(c, stream),
    group: 'faults' as const,
    title: `${c.role} fault ${faultText(c.fault)}${STACK_NOTES[c.stack]}, ${stream ? 'streaming' : 'non-streaming'}${c.note === undefined ? '' : `: ${c.note}`}`,
    expect: `${formatOutcome(stream ? c.stream : c.json)}${c.noDecode ? '; no decode sent' : ''}${c.decodeNixl === undefined ? '' : `; decode: ${c.decodeNixl}`}`,
  })),
);

/** The closing check of the fault runs: every socket closed once the keep-alive timeout passed. */
export const SOCKETS_BASELINE_ID = 'faults/sockets-back-to-baseline';

export const FAULT_BASELINE_SCENARIO: Scenario = {
  id: SOCKETS_BASELINE_ID,
  group: 'faults',
  title:
    'after every fault above: router inbound, router upstream and mock-side sockets, once the upstream keep-alive (4 s) has passed',
  expect: '0 sockets open',
};
