import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLines } from '../src/harness/capture-logger.js';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { errorCodeOf } from '../src/harness/http-response-parser.js';
import { rawExchange } from '../src/harness/raw-http.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { formatCounters } from '../src/report/outcome.js';
import { ResultRecorder } from '../src/report/recorder.js';
import {
  BAD_INPUT_CASES,
  BAD_INPUT_MAX_PAYLOAD,
  badInputId,
  formatExpectation,
} from '../src/scenarios/bad-input.js';

const recorder = new ResultRecorder('bad-input');
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    router: { maxPayloadSize: BAD_INPUT_MAX_PAYLOAD, prefillTimeoutMs: 10_000, decodeTtftTimeoutMs: 10_000 },
  });
});

afterAll(async () => {
  await stack.close();
  recorder.flush();
});

describe('bad input over raw TCP: each gets its 4xx (or is handled), and the router keeps serving', () => {
  it('has at least 50 cases', () => {
    expect(BAD_INPUT_CASES.length).toBeGreaterThanOrEqual(50);
  });

  for (const c of BAD_INPUT_CASES) {
    const id = badInputId(c);
    it(id, async () => {
      stack.log.clear();
      await stack.resetMocks();
      const t0 = performance.now();
      const r = await rawExchange({ port: stack.port, ...c.send, timeoutMs: 15_000 });
      const elapsed = performance.now() - t0;
      const finals = r.responses.filter((x) => x.status >= 200);
      const first = finals[0];
      expect(first, `no response: ${r.data.toString('latin1').slice(0, 300)}`).toBeDefined();
      if (first === undefined) return;
      const e = c.expect;
      expect(e.status, first.body.toString('utf8').slice(0, 300)).toContain(first.status);
      if (e.statuses !== undefined) expect(finals.map((x) => x.status)).toEqual(e.statuses);
      const code = errorCodeOf(first.body);
      if (e.code !== undefined) expect(code).toBe(e.code);
      if (e.answeredEarly === true) {
        // Answered while most of the body was still unsent: it was never buffered whole.
        expect(r.bytesWrittenBeforeResponse).toBeLessThan(r.bytesPlanned);
      }
      if (e.forwardedContains !== undefined) {
        const forwarded = stack.decodes[0]?.received.at(-1)?.body.toString('latin1') ?? '';
        expect(forwarded).toContain(e.forwardedContains);
      }
      // The router still serves, and nothing was logged as a crash.
      const good = await postCompletion(stack.url, completionBody(false));
      expect(good.status).toBe(200);
      expect(stack.log.atLeast('error'), describeLines(stack.log.atLeast('error'))).toEqual([]);
      const after = await stack.settle();
      expect(after).toMatchObject({ inFlight: 0, routerInbound: 0, mockLoad: 0 });

      const observedStatuses = e.statuses === undefined ? [first.status] : finals.map((x) => x.status);
      const observed = formatExpectation({
        status: observedStatuses,
        ...(e.statuses === undefined ? {} : { statuses: observedStatuses }),
        ...(e.code === undefined || code === undefined ? {} : { code }),
        ...(e.answeredEarly === true ? { answeredEarly: r.bytesWrittenBeforeResponse < r.bytesPlanned } : {}),
        ...(e.forwardedContains === undefined ? {} : { forwardedContains: e.forwardedContains }),
      });
      recorder.record({
        id,
        observed: `${observed}; router still serving`,
        timeMs: Math.round(elapsed),
        after: formatCounters(after),
        ...(e.answeredEarly === true
          ? { metrics: { sentBeforeAnswer: r.bytesWrittenBeforeResponse, bodyPlanned: r.bytesPlanned } }
          : {}),
      });
    });
  }
});
