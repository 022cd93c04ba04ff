import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLines } from '../src/harness/capture-logger.js';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { CLOCK_GRANULARITY_MS, MARGIN_MS } from '../src/harness/fault-timing.js';
import { activeSocketHandles } from '../src/harness/socket-census.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { measureStalls } from '../src/harness/stalls.js';
import { formatCounters, formatOutcome, outcomeOf } from '../src/report/outcome.js';
import { ResultRecorder } from '../src/report/recorder.js';
import {
  budgetMs,
  FAULT_BUDGETS,
  FAULT_CASES,
  type FaultCase,
  type FaultStack,
  faultScenarioId,
  SOCKETS_BASELINE_ID,
} from '../src/scenarios/faults.js';
import { NIXL_PROMPT } from '../src/scenarios/faults-nixl.js';
import { expectSocketsBack } from './sockets-baseline.js';

const recorder = new ResultRecorder('faults');
const stacks = new Map<FaultStack, Stack>();
let handleBaseline = 0;
const router = {
  prefillTimeoutMs: FAULT_BUDGETS.prefillTimeoutMs,
  decodeTtftTimeoutMs: FAULT_BUDGETS.decodeTtftTimeoutMs,
  streamIdleTimeoutMs: FAULT_BUDGETS.streamIdleTimeoutMs,
};

beforeAll(async () => {
  handleBaseline = activeSocketHandles();
  stacks.set(
    'default',
    await startStack({ router, decodeMock: { kvWaitTimeoutMs: FAULT_BUDGETS.kvWaitTimeoutMs } }),
  );
  stacks.set('kv-hang', await startStack({ router, decodeMock: { kvMode: 'hang' } }));
  const nixl = { prefillMock: { kvConnector: 'nixl' }, decodeMock: { kvConnector: 'nixl' } } as const;
  stacks.set('nixl', await startStack({ ...nixl, router: { ...router, kvConnector: 'nixl' } }));
  stacks.set(
    'nixl-fail',
    await startStack({
      ...nixl,
      router: { ...router, kvConnector: 'nixl', nixl: { onMissingParams: 'fail' } },
    }),
  );
});

afterAll(async () => {
  await Promise.all([...stacks.values()].map((s) => s.close()));
  recorder.flush();
});

function stackFor(c: FaultCase): Stack {
  const stack = stacks.get(c.stack);
  if (stack === undefined) throw new Error(`no stack ${c.stack}`);
  return stack;
}

describe('faults: every prefill and decode fault, streaming or not', () => {
  for (const c of FAULT_CASES) {
    for (const stream of [false, true]) {
      const id = faultScenarioId(c, stream);
      it(id, async () => {
        const stack = stackFor(c);
        await stack.resetMocks();
        stack.log.clear();
        const target = c.role === 'prefill' ? stack.prefills[0] : stack.decodes[0];
        await target?.setFaults(c.fault);
        const nixl = c.stack === 'nixl' || c.stack === 'nixl-fail';
        const body = completionBody(stream, 5, nixl ? { prompt: NIXL_PROMPT } : {});
        const { value: result, stalledMs } = await measureStalls(() => postCompletion(stack.url, body));
        await target?.setFaults([]);
        const outcome = outcomeOf(result);
        const expected = stream ? c.stream : c.json;
        expect(outcome, result.text.slice(0, 500)).toEqual(expected);

        // Within the configured budget (plus slack, not counting the time this process, shared by
        // client, router and mocks, was held up), and a timeout does not fire early.
        const limit = budgetMs(stream ? (c.streamBudget ?? c.budget) : c.budget);
        expect(result.elapsedMs - stalledMs, `held up ${Math.round(stalledMs)} ms`).toBeLessThanOrEqual(
          limit + MARGIN_MS,
        );
        if (expected.code?.endsWith('_TIMEOUT') === true) {
          expect(result.elapsedMs).toBeGreaterThanOrEqual(limit - CLOCK_GRANULARITY_MS);
        }
        if (c.noDecode) expect(stack.decodes[0]?.received).toHaveLength(0);
        if (c.decodeNixl !== undefined) {
          const record = stack.decodes[0]?.received[0]?.nixl;
          const seen =
            record === undefined
              ? 'none'
              : `${record.path}${record.reason === undefined ? '' : ` (${record.reason})`}`;
          expect(seen).toBe(c.decodeNixl);
        }

        // Afterwards: nothing in flight, no half-open socket on either side of any upstream connection.
        const after = await stack.settle();
        expect(after).toMatchObject({ inFlight: 0, routerInbound: 0, mockLoad: 0 });
        expect(after.upstreamSockets).toBe(after.mockSockets);
        expect(stack.log.atLeast('error'), describeLines(stack.log.atLeast('error'))).toEqual([]);
        recorder.record({
          id,
          observed: `${formatOutcome(outcome)}${c.noDecode ? '; no decode sent' : ''}${c.decodeNixl === undefined ? '' : `; decode: ${c.decodeNixl}`}`,
          timeMs: Math.round(result.elapsedMs),
          after: formatCounters(after),
        });
      });
    }
  }

  it(SOCKETS_BASELINE_ID, async () => {
    // Before its first request a stack has no upstream socket; once the keep-alive timeout has
    // passed after the last scenario, it must be back there: nothing leaked by any fault.
    await expectSocketsBack(SOCKETS_BASELINE_ID, [...stacks.values()], handleBaseline, recorder);
  }, 30_000);
});
