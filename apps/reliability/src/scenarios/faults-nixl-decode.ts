import { type ClientOutcome, formatOutcome } from '../report/outcome.js';
import type { Scenario } from '../report/scenario.js';
import { type FaultCase, faultScenarioId, faultText, P2P_DECODE_FAULT_CASES } from './faults.js';

/**
 * What the decode worker saw of a NIXL request:
 * - `not-reached`: nothing (the connection was refused);
 * - `params`: the request, carrying the prefill's `kv_transfer_params`; whether it read the KV is
 *   not asserted (the fault struck before the read, or the run ends on a timeout, and on a loaded
 *   machine the router's abort can come before or after the read has finished);
 * - `read`: the request with the prefill's params, and it read the KV blocks (mock-vllm's
 *   `decode-read`): the fault struck after a working hand-off.
 */
export type NixlDecodeSeen = 'not-reached' | 'params' | 'read';

export interface NixlDecodeFaultCase extends FaultCase {
  readonly decodeSeen: NixlDecodeSeen;
}

/**
 * Per P2P NCCL decode case, what the NIXL decode sees. A case missing here fails the catalogue at
 * load: a new decode fault must say what it means in NIXL mode too.
 */
const DECODE_SEEN: Readonly<Record<string, NixlDecodeSeen>> = {
  'status-503': 'params',
  'status-400': 'params',
  refuse: 'not-reached',
  'refuse-destroy': 'not-reached',
  hang: 'params',
  'slow-headers-over-budget': 'params',
  'slow-headers-within-budget': 'read',
  'reset-before-body': 'read',
  'reset-mid-body': 'read',
  'malformed-sse': 'read',
  'stall-before-first-event': 'params',
  'stall-mid-stream': 'params',
};

/**
 * Every decode fault of the P2P NCCL runs, against `--kv-connector nixl` over NIXL mock-vllm
 * (docs/kv-connectors.md, "decode fails": the honest decode errors of every connector, 502/504
 * before the first byte, an error event after it). The client must see exactly what it sees with
 * P2P NCCL: the connector changes the decode's body, not how its failures are answered.
 */
export const NIXL_DECODE_FAULT_CASES: readonly NixlDecodeFaultCase[] = P2P_DECODE_FAULT_CASES.map((c) => {
  const decodeSeen = DECODE_SEEN[c.name];
  if (decodeSeen === undefined) throw new Error(`faults-nixl-decode: no NIXL expectation for ${c.name}`);
  return { ...c, name: `nixl-${c.name}`, stack: 'nixl', decodeSeen };
});

const SEEN_TEXT: Readonly<Record<NixlDecodeSeen, string>> = {
  'not-reached': 'nothing reached the decode',
  params: "the decode got the prefill's `kv_transfer_params`",
  read: "the decode got the prefill's `kv_transfer_params` and read its KV (`decode-read`)",
};

/** The expectation (and, when it matched, the observation) of a NIXL decode fault run. */
export function nixlDecodeFaultText(outcome: ClientOutcome, seen: NixlDecodeSeen): string {
  return `${formatOutcome(outcome)}; ${SEEN_TEXT[seen]}`;
}

/** A counter series of the router's /metrics: its name and the labels a sample must carry. */
export interface MetricSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A prefill answer that is not a usable completion: a NIXL mock-vllm prefill sends it through its
 * `body` fault (what a broken proxy in front of vLLM answers), with a NIXL mock-vllm decode behind
 * the router.
 */
export interface NixlAnswerCase {
  readonly name: string;
  /** The prefill's 200 body (application/json). */
  readonly answer: string;
  /** The answer in words, for the doc. */
  readonly what: string;
  readonly json: ClientOutcome;
  readonly stream: ClientOutcome;
  /** `none`: no decode may be sent; `recompute`: the decode gets the client's body without params. */
  readonly decode: 'none' | 'recompute';
  /** With `recompute`: the reason the router logs (one warn line) and counts. */
  readonly reason?: 'bad_answer' | 'empty_params';
  /** The router counter that must go up by one. */
  readonly counter: MetricSeries;
}

const BAD_RESPONSE: MetricSeries = {
  name: 'pd_router_upstream_errors_total',
  labels: { role: 'prefill', kind: 'bad_response' },
};

/** An answer the router cannot use: the decode recomputes, the client gets a normal answer. */
function recomputed(
  name: string,
  answer: string,
  what: string,
  reason: NonNullable<NixlAnswerCase['reason']>,
  counter: MetricSeries,
): NixlAnswerCase {
  const json: ClientOutcome = { status: 200, end: 'body' };
  const stream: ClientOutcome = { status: 200, end: 'done' };
  return { name, answer, what, json, stream, decode: 'recompute', reason, counter };
}

const recomputes = (reason: string): MetricSeries => ({
  name: 'pd_router_nixl_recomputes_total',
  labels: { reason },
});

export const NIXL_ANSWER_CASES: readonly NixlAnswerCase[] = [
  recomputed(
    'nixl-answer-array',
    '[{"kv_transfer_params": {"do_remote_prefill": true}}]',
    'a JSON array, not an object',
    'bad_answer',
    recomputes('bad_answer'),
  ),
  recomputed('nixl-answer-number', '42', 'a JSON number, not an object', 'bad_answer', BAD_RESPONSE),
  recomputed(
    'nixl-empty-params',
    '{"id": "cmpl-fake", "object": "text_completion", "model": "mock-model", "choices": [{"index": 0, "text": " a", "finish_reason": "length"}], "kv_transfer_params": {}}',
    'a completion with `kv_transfer_params: {}`',
    'empty_params',
    recomputes('empty_params'),
  ),
];

export function nixlAnswerScenarioId(c: NixlAnswerCase, stream: boolean): string {
  return `faults/prefill/${c.name}/${stream ? 'stream' : 'json'}`;
}

/** `name{a="b"}`, the labels the test matches (other labels, e.g. the worker URL, left out). */
export function formatSeries(s: MetricSeries): string {
  const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v}"`);
  return `${s.name}{${labels.join(',')}}`;
}

const DECODE_TEXT: Readonly<Record<NixlAnswerCase['decode'], string>> = {
  none: 'no decode sent',
  recompute:
    "the decode got the client's body without `kv_transfer_params` and recomputed (`decode-recompute`)",
};

/** The expectation (and, when it matched, the observation) of a prefill-answer run. */
export function nixlAnswerText(c: NixlAnswerCase, outcome: ClientOutcome): string {
  return `${formatOutcome(outcome)}; ${DECODE_TEXT[c.decode]}; \`${formatSeries(c.counter)}\` +1`;
}

/** The closing check of the NIXL decode-fault file: its stacks' sockets all closed. */
export const NIXL_SOCKETS_BASELINE_ID = 'faults/nixl-decode/sockets-back-to-baseline';

const MODES = [false, true] as const;

function modeText(stream: boolean): string {
  return stream ? 'streaming' : 'non-streaming';
}

/** The rows of docs/reliability.md for the NIXL decode faults and prefill answers, in run order. */
export const NIXL_DECODE_SCENARIOS: readonly Scenario[] = [
  ...NIXL_DECODE_FAULT_CASES.flatMap((c) =>
    MODES.map((stream) => ({
      id: faultScenarioId(c, stream),
      group: 'faults' as const,
      title: `decode fault ${faultText(c.fault)} (NIXL), ${modeText(stream)}`,
      expect: nixlDecodeFaultText(stream ? c.stream : c.json, c.decodeSeen),
    })),
  ),
  ...NIXL_ANSWER_CASES.flatMap((c) =>
    MODES.map((stream) => ({
      id: nixlAnswerScenarioId(c, stream),
      group: 'faults' as const,
      title: `prefill answers 200 with ${c.what} (NIXL, \`--nixl-on-missing-params recompute\`; mock-vllm's \`body\` fault on the prefill), ${modeText(stream)}`,
      expect: nixlAnswerText(c, stream ? c.stream : c.json),
    })),
  ),
  {
    id: NIXL_SOCKETS_BASELINE_ID,
    group: 'faults',
    title:
      'after every NIXL decode fault and prefill answer above: router inbound, router upstream and worker-side sockets, once the upstream keep-alive (4 s) has passed',
    expect: '0 sockets open',
  },
];
