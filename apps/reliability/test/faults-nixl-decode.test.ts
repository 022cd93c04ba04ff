import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLines, LOG_LEVELS } from '../src/harness/capture-logger.js';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { CLOCK_GRANULARITY_MS, MARGIN_MS } from '../src/harness/fault-timing.js';
import { send } from '../src/harness/http-get.js';
import { activeSocketHandles } from '../src/harness/socket-census.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { measureStalls } from '../src/harness/stalls.js';
import { formatCounters, outcomeOf } from '../src/report/outcome.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { budgetMs, FAULT_BUDGETS, faultScenarioId } from '../src/scenarios/faults.js';
import { NIXL_PROMPT } from '../src/scenarios/faults-nixl.js';
import {
  type MetricSeries,
  NIXL_ANSWER_CASES,
  NIXL_DECODE_FAULT_CASES,
  NIXL_SOCKETS_BASELINE_ID,
  type NixlDecodeSeen,
  nixlAnswerScenarioId,
  nixlAnswerText,
  nixlDecodeFaultText,
} from '../src/scenarios/faults-nixl-decode.js';
import { expectSocketsBack } from './sockets-baseline.js';

// The decode rows of docs/kv-connectors.md's failure table in NIXL mode (issue 8), with the same
// budgets, slack and "after" checks as faults.test.ts, plus prefill answers that are not a usable
// completion (a 2xx that is not a JSON object, `kv_transfer_params: {}`), from a NIXL mock-vllm
// prefill with a `body` fault.

const recorder = new ResultRecorder('faults-nixl-decode');
const router = {
  prefillTimeoutMs: FAULT_BUDGETS.prefillTimeoutMs,
  decodeTtftTimeoutMs: FAULT_BUDGETS.decodeTtftTimeoutMs,
  streamIdleTimeoutMs: FAULT_BUDGETS.streamIdleTimeoutMs,
  kvConnector: 'nixl',
} as const;

let nixl: Stack;
let answers: Stack;
let handleBaseline = 0;

beforeAll(async () => {
  handleBaseline = activeSocketHandles();
  nixl = await startStack({
    prefillMock: { kvConnector: 'nixl' },
    decodeMock: { kvConnector: 'nixl' },
    router,
  });
  // Its own stack, so that no decode fault above leaves its mark on the router (worker state).
  answers = await startStack({
    prefillMock: { kvConnector: 'nixl' },
    decodeMock: { kvConnector: 'nixl' },
    router,
  });
});

afterAll(async () => {
  await Promise.all([nixl?.close(), answers?.close()]);
  recorder.flush();
});

function bodyOf(buffer: Buffer | undefined): Record<string, unknown> {
  return JSON.parse(buffer?.toString('utf8') ?? 'null') as Record<string, unknown>;
}

/** What the decode mock saw of the run, in the words of NixlDecodeSeen (checked against the prefill's params). */
function decodeSeen(stack: Stack): NixlDecodeSeen | string {
  const received = stack.decodes[0]?.received[0];
  if (received === undefined) return 'not-reached';
  const params = bodyOf(received.body)['kv_transfer_params'] as Record<string, unknown> | undefined;
  const held = stack.prefills[0]?.received[0]?.nixl;
  const fromPrefill =
    params?.['do_remote_prefill'] === true &&
    params['remote_engine_id'] === stack.prefills[0]?.engineId &&
    held?.path === 'prefill-held' &&
    params['remote_request_id'] === held.remoteRequestId;
  if (!fromPrefill) return `params not the prefill's: ${JSON.stringify(params)}`;
  return received.nixl?.path === 'decode-read' ? 'read' : 'params';
}

/** The sum of a counter's samples that carry the series' labels (0 when none does). */
async function counter(stack: Stack, series: MetricSeries): Promise<number> {
  const res = await send(stack.url, 'GET', '/metrics');
  expect(res.status).toBe(200);
  let sum = 0;
  for (const line of res.text.split('\n')) {
    if (!line.startsWith(`${series.name}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = new Map(
      [...line.slice(series.name.length + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [
        m[1],
        m[2],
      ]),
    );
    if (Object.entries(series.labels).every(([k, v]) => labels.get(k) === v))
      sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}

/** Nothing in flight, no half-open socket. */
async function settle(stack: Stack): Promise<string> {
  const after = await stack.settle();
  expect(after).toMatchObject({ inFlight: 0, routerInbound: 0, mockLoad: 0 });
  expect(after.upstreamSockets).toBe(after.mockSockets);
  expect(stack.log.atLeast('error'), describeLines(stack.log.atLeast('error'))).toEqual([]);
  return formatCounters(after);
}

describe('NIXL: every decode fault, streaming or not', () => {
  for (const c of NIXL_DECODE_FAULT_CASES) {
    for (const stream of [false, true]) {
      const id = faultScenarioId(c, stream);
      it(id, async () => {
        await nixl.resetMocks();
        nixl.log.clear();
        const target = nixl.decodes[0];
        await target?.setFaults(c.fault);
        const body = completionBody(stream, 5, { prompt: NIXL_PROMPT });
        const { value: result, stalledMs } = await measureStalls(() => postCompletion(nixl.url, body));
        await target?.setFaults([]);
        const outcome = outcomeOf(result);
        const expected = stream ? c.stream : c.json;
        expect(outcome, result.text.slice(0, 500)).toEqual(expected);
        if (stream && outcome.status === 200) {
          // NIXL keeps the decode's SSE content type (the toy proxy says application/json).
          expect(String(result.headers['content-type'])).toMatch(/^text\/event-stream/);
        }

        const limit = budgetMs(stream ? (c.streamBudget ?? c.budget) : c.budget);
        expect(result.elapsedMs - stalledMs, `held up ${Math.round(stalledMs)} ms`).toBeLessThanOrEqual(
          limit + MARGIN_MS,
        );
        if (expected.code?.endsWith('_TIMEOUT') === true) {
          expect(result.elapsedMs).toBeGreaterThanOrEqual(limit - CLOCK_GRANULARITY_MS);
        }
        const seen = decodeSeen(nixl);
        if (c.decodeSeen === 'params') expect(['params', 'read']).toContain(seen);
        else expect(seen).toBe(c.decodeSeen);

        const after = await settle(nixl);
        recorder.record({
          id,
          observed: nixlDecodeFaultText(outcome, c.decodeSeen),
          timeMs: Math.round(result.elapsedMs),
          after,
        });
      });
    }
  }
});

describe("NIXL: prefill answers that are not a usable completion (mock-vllm's body fault)", () => {
  for (const c of NIXL_ANSWER_CASES) {
    for (const stream of [false, true]) {
      const id = nixlAnswerScenarioId(c, stream);
      it(id, async () => {
        await answers.resetMocks();
        answers.log.clear();
        const prefill = answers.prefills[0];
        await prefill?.setFaults({ kind: 'body', body: c.answer, times: 1 });
        const before = await counter(answers, c.counter);
        const clientBody = { model: 'mock-model', prompt: NIXL_PROMPT, max_tokens: 5, stream };
        const result = await postCompletion(answers.url, JSON.stringify(clientBody));
        const outcome = outcomeOf(result);
        expect(outcome, result.text.slice(0, 500)).toEqual(stream ? c.stream : c.json);
        expect(prefill?.received).toHaveLength(1);
        // The fault answered it (consumed), not a generation: nothing held for a decode to read.
        expect(prefill?.faults).toEqual([]);
        expect(prefill?.received[0]?.nixl).toBeUndefined();

        const received = answers.decodes[0]?.received ?? [];
        if (c.decode === 'none') {
          expect(received).toHaveLength(0);
        } else {
          // The client's body as it was (no kv_transfer_params added), and the decode recomputed.
          expect(received).toHaveLength(1);
          expect(bodyOf(received[0]?.body)).toEqual(clientBody);
          expect(received[0]?.nixl).toMatchObject({ path: 'decode-recompute', reason: 'missing_params' });
          if (stream) expect(String(result.headers['content-type'])).toMatch(/^text\/event-stream/);
          // Never silent: one warn line with the reason.
          const warned = answers.log.lines.filter((l) => l.level === LOG_LEVELS.warn);
          expect(warned.map((l) => l.fields['reason'])).toEqual([c.reason]);
        }
        expect(await counter(answers, c.counter)).toBe(before + 1);

        const after = await settle(answers);
        recorder.record({
          id,
          observed: nixlAnswerText(c, outcome),
          timeMs: Math.round(result.elapsedMs),
          after,
        });
      });
    }
  }

  it(NIXL_SOCKETS_BASELINE_ID, async () => {
    // As faults.test.ts: once the upstream keep-alive has passed, nothing of any run is left open.
    await expectSocketsBack(NIXL_SOCKETS_BASELINE_ID, [nixl, answers], handleBaseline, recorder);
  }, 30_000);
});
