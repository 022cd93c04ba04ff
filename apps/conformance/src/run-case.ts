import { setTimeout as delay } from 'node:timers/promises';
import {
  type ConformanceChecker,
  formatDiff,
  type GoldenCase,
  type GoldenRound,
  type Verdict,
} from '@pd-router/mock-vllm';
import type { Client } from 'undici';
import { CaseRecorder, type CaseResult, COLUMNS, columnOf } from './case-result.js';
import { clientView } from './client-view.js';
import type { TappedCluster } from './mock-cluster.js';
import { replayClientRequest } from './replay-client.js';
import { legsSince, markWorkers, type UpstreamLeg, type WorkerMark } from './upstream-legs.js';

/** How long the records of a finished client request may take to settle (answer-complete timestamps). */
const SETTLE_TIMEOUT_MS = 2_000;
const SETTLE_POLL_MS = 5;

export interface CaseRun {
  readonly checker: ConformanceChecker;
  readonly cluster: TappedCluster;
  readonly client: Client;
  /** Name shown in the table (the case name, prefixed by its fixture set when several run). */
  readonly displayName: string;
  /** Called before each client request: the NIXL prefill taps answer from this round's capture. */
  readonly onRound?: (round: GoldenRound) => void;
}

/** Bytes of an unexpected upstream answer shown in a report. */
const ANSWER_EXCERPT_CHARS = 300;

function describeAnswer(leg: UpstreamLeg): string {
  const res = leg.exchange?.response;
  if (res === undefined) return 'nothing (no complete answer)';
  return `${res.status}: ${res.body.toString('utf8').slice(0, ANSWER_EXCERPT_CHARS)}`;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** Marks the columns of the failed checks of a verdict (with `onlyNewColumns`, those not failed yet). */
function recordVerdict(rec: CaseRecorder, verdict: Verdict, label: string, onlyNewColumns: boolean): void {
  if (verdict.ok) return;
  const columns = [
    ...new Set(verdict.checks.filter((c) => !c.ok).map((c) => columnOf(c.name, verdict.role))),
  ];
  const fresh = onlyNewColumns ? columns.filter((c) => !rec.failed(c)) : columns;
  if (fresh.length === 0) return;
  rec.fail(fresh, `${label}\n${indent(verdict.diff ?? 'failed')}`);
}

type Marks = { readonly prefill: WorkerMark[]; readonly decode: WorkerMark[] };

async function settledLegs(run: CaseRun, marks: Marks): Promise<UpstreamLeg[]> {
  const { prefill, decode } = run.cluster;
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const legs = [...legsSince(prefill, marks.prefill), ...legsSince(decode, marks.decode)];
    const done = legs.every((l) => l.role !== 'prefill' || l.completedAt !== undefined);
    if (done || Date.now() > deadline) return legs;
    await delay(SETTLE_POLL_MS);
  }
}

/** One upstream request against the golden request of this case and round, as the worker saw it. */
function checkLeg(
  run: CaseRun,
  c: GoldenCase,
  round: GoldenRound,
  leg: UpstreamLeg,
  expectedZmq: { readonly prefill: string; readonly decode: string } | undefined,
  rec: CaseRecorder,
  label: string,
  bootstrapAddr?: string,
): void {
  const worker = (leg.role === 'prefill' ? run.cluster.prefill : run.cluster.decode)[leg.worker];
  const verdict = run.checker.check(leg.role, leg.request, {
    case: c.name,
    apiKey: c.apiKey,
    ...(round.index === undefined ? {} : { index: round.index }),
    ...(worker === undefined ? {} : { workerHostHeader: worker.tap.hostPort }),
    ...(expectedZmq === undefined ? {} : { expectedZmq }),
    ...(bootstrapAddr === undefined || leg.role !== 'decode' ? {} : { bootstrapAddr }),
  });
  recordVerdict(rec, verdict, `${label}${leg.role} request (worker ${leg.worker + 1}):`, false);
}

async function runRound(run: CaseRun, c: GoldenCase, round: GoldenRound, rec: CaseRecorder): Promise<void> {
  const label = round.index === undefined ? '' : `request ${round.index}: `;
  const nixl = c.kind === 'nixl';
  const marks = { prefill: markWorkers(run.cluster.prefill), decode: markWorkers(run.cluster.decode) };
  run.onRound?.(round);
  const client = await replayClientRequest(run.client, round.client);
  const legs = await settledLegs(run, marks);
  const prefills = legs.filter((l) => l.role === 'prefill');
  const decodes = legs.filter((l) => l.role === 'decode');
  const clientNote = client.ok ? `client got status ${client.status}` : `client: ${client.error}`;
  const [p, d] = [prefills[0], decodes[0]];
  if (prefills.length !== 1 || decodes.length !== 1 || p === undefined || d === undefined) {
    const answers = legs.map((l) => `\n  ${l.role} worker ${l.worker + 1} answered ${describeAnswer(l)}`);
    rec.fail(
      [...COLUMNS],
      `${label}the router made ${prefills.length} prefill and ${decodes.length} decode requests (want 1 and 1); ${clientNote}${answers.join('')}`,
    );
    // What did reach a worker is still compared, so a broken body shows as such.
    for (const leg of legs) checkLeg(run, c, round, leg, undefined, rec, label);
    return;
  }

  // Both legs against this round's capture, with the Host and ZMQ addresses of the workers called.
  const pKv = run.cluster.prefill[p.worker]?.kvAddress;
  const dKv = run.cluster.decode[d.worker]?.kvAddress;
  const zmq = pKv === undefined || dKv === undefined ? undefined : { prefill: pKv, decode: dKv };
  // Mooncake: the decode must name the bootstrap server of the prefill it was paired with.
  const bootstrapPort = run.cluster.prefill[p.worker]?.bootstrapPort;
  const bootstrap = bootstrapPort === undefined ? undefined : `http://127.0.0.1:${bootstrapPort}`;
  for (const leg of [p, d]) checkLeg(run, c, round, leg, zmq, rec, label, bootstrap);

  if (p.requestId === undefined || p.requestId !== d.requestId) {
    rec.fail(
      'request id',
      `${label}prefill and decode got different request ids: ${JSON.stringify(p.requestId)} vs ${JSON.stringify(d.requestId)}`,
    );
  }
  // P2P NCCL: the mocks' clocks; NIXL (the tap plays the prefill): the taps' clock. Never mixed.
  const prefillDone = nixl ? p.exchange?.response?.at : p.completedAt;
  const decodeArrived = nixl ? d.exchange?.requestAt : d.receivedAt;
  if (c.kind === 'mooncake') {
    // Mooncake's legs go out together: the decode arrives while the (slow) prefill still runs.
    if (prefillDone === undefined || decodeArrived === undefined || decodeArrived > prefillDone) {
      rec.fail(
        'prefill-before-decode',
        `${label}the decode request arrived after the prefill answer was complete: the legs were not sent together`,
      );
    }
  } else if (prefillDone === undefined || decodeArrived === undefined || prefillDone > decodeArrived) {
    rec.fail(
      'prefill-before-decode',
      prefillDone === undefined
        ? `${label}the prefill answer never completed before the client's answer did`
        : `${label}the decode request arrived before the prefill answer was complete`,
    );
  }
  if (p.worker !== round.pair.prefill || d.worker !== round.pair.decode) {
    rec.fail(
      'pair',
      `${label}round robin: routed to P${p.worker + 1}/D${d.worker + 1}, the reference chose P${round.pair.prefill + 1}/D${round.pair.decode + 1}`,
    );
  }
  // The mocks' own conformance verdicts (mock-vllm's fixtures mode) must agree.
  for (const leg of [p, d]) {
    if (leg.mockVerdict !== undefined) {
      recordVerdict(
        rec,
        leg.mockVerdict,
        `${label}mock-vllm's own verdict on the ${leg.role} request:`,
        true,
      );
    }
  }

  checkClient(rec, label, client, d);
}

function checkClient(
  rec: CaseRecorder,
  label: string,
  client: Awaited<ReturnType<typeof replayClientRequest>>,
  decode: UpstreamLeg,
): void {
  if (!client.ok) {
    rec.fail('client body', `${label}client: ${client.error}`);
    return;
  }
  const answer = decode.exchange?.response;
  if (answer === undefined) {
    rec.fail('client body', `${label}the decode's answer was not seen complete`);
    return;
  }
  // The captures' decodes always answered 200. A mock validates like vLLM and may refuse a captured
  // body the capture's fake accepted (vLLM's min_tokens is not nullable): the upstream columns prove
  // the body is the reference's, and the router must then relay that refusal as it is.
  if (client.status !== answer.status) {
    const body = client.body.toString('utf8').slice(0, 500);
    rec.fail(
      'client body',
      `${label}client got status ${client.status} (want the decode's ${answer.status}): ${body}`,
    );
  }
  const expected = clientView(answer.body, decode.requestId);
  if (!client.body.equals(expected)) {
    rec.fail(
      'client body',
      `${label}client body is not the decode's answer (expected: decode's answer, its P2P NCCL id shortened; actual: client's):\n${indent(formatDiff(expected, client.body))}`,
    );
  }
  if (mediaType(client.contentType) !== mediaType(answer.contentType)) {
    rec.fail(
      'client body',
      `${label}client content-type ${JSON.stringify(client.contentType)}, the decode answered ${JSON.stringify(answer.contentType)}`,
    );
  }
}

/**
 * Replays every client request of a case through the router and checks the seven columns: both
 * upstream bodies, headers, request id, prefill-before-decode (the prefill answer complete before the
 * decode request), what the client got (the decode's status, bytes and content type), and the round
 * robin pair.
 */
export async function runCase(run: CaseRun, c: GoldenCase): Promise<CaseResult> {
  const rec = new CaseRecorder(run.displayName);
  for (const round of c.rounds) await runRound(run, c, round, rec);
  return rec.result();
}
