import { connect, type Socket } from 'node:net';
import type { MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLines } from '../src/harness/capture-logger.js';
import { completionBody } from '../src/harness/client.js';
import { post } from '../src/harness/raw-http.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { measureStalls } from '../src/harness/stalls.js';
import { formatCounters } from '../src/report/outcome.js';
import { ResultRecorder } from '../src/report/recorder.js';
import {
  ABORT_CASES,
  ABORT_MAX_BOUND_MS,
  ABORT_MEDIAN_BOUND_MS,
  ABORT_TRIALS,
  type AbortCase,
} from '../src/scenarios/clients.js';

const recorder = new ResultRecorder('client-disconnect');
let stack: Stack;

beforeAll(async () => {
  // Generous leg budgets: only the client's disconnect may end these requests.
  stack = await startStack({
    router: { prefillTimeoutMs: 30_000, decodeTtftTimeoutMs: 30_000, streamIdleTimeoutMs: 30_000 },
    decodeMock: { timing: { interTokenMs: 20 } },
  });
});

afterAll(async () => {
  await stack.close();
  recorder.flush();
});

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function mock(c: AbortCase): MockVllm {
  const m = c.upstream === 'prefill' ? stack.prefills[0] : stack.decodes[0];
  if (m === undefined) throw new Error('no mock');
  return m;
}

interface Trial {
  /** From socket.destroy() to the mock seeing its request's connection close. */
  readonly latencyMs: number;
  /**
   * The same, less the time this process could not run in between (the lateness of a 1 ms
   * timer, summed): client, router and mocks share the process, so a stall of the whole process
   * on a loaded machine is no delay of the router's. What the bounds are asserted on.
   */
  readonly ownLatencyMs: number;
  readonly decodesSent: number;
}

/** One disconnect: raw socket, wait for the phase, destroy, time the upstream abort on the mock. */
async function trial(c: AbortCase): Promise<Trial> {
  await stack.resetMocks();
  if (c.phase === 'prefill') await stack.prefills[0]?.setFaults({ kind: 'hang' });
  if (c.phase === 'decode_wait') await stack.decodes[0]?.setFaults({ kind: 'hang' });
  const upstream = mock(c);
  const socket: Socket = connect({ host: '127.0.0.1', port: stack.port });
  let events = 0;
  socket.on('data', (chunk: Buffer) => {
    events += chunk.toString('latin1').split('data: ').length - 1;
  });
  socket.on('error', () => undefined);
  socket.write(post('/v1/completions', completionBody(true, 5_000)));
  await until(() => upstream.received.length > 0, 10_000, `the ${c.upstream} request`);
  if (c.phase === 'stream') await until(() => events >= 3, 10_000, 'three SSE events');
  const entry = upstream.received[0];
  if (entry === undefined) throw new Error('no entry');
  expect(entry.outcome).toBeUndefined();
  const t0 = Date.now();
  const { stalledMs } = await measureStalls(async () => {
    socket.destroy();
    await until(() => entry.outcome !== undefined, 15_000, 'the upstream call to end');
  });
  expect(entry.outcome).toBe('aborted');
  const latencyMs = (entry.completedAt ?? Number.NaN) - t0;
  const ownLatencyMs = Math.max(0, latencyMs - stalledMs);
  // A decode sent after the prefill was aborted would show up here within a few ms; wait longer.
  if (c.phase === 'prefill') await new Promise((r) => setTimeout(r, 300));
  await stack.prefills[0]?.setFaults([]);
  await stack.decodes[0]?.setFaults([]);
  return { latencyMs, ownLatencyMs, decodesSent: stack.decodes[0]?.received.length ?? 0 };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe('clients that leave: the upstream call is aborted at once', () => {
  for (const c of ABORT_CASES) {
    it(c.id, async () => {
      stack.log.clear();
      const trials: Trial[] = [];
      for (let i = 0; i < ABORT_TRIALS; i++) trials.push(await trial(c));
      const latencies = trials.map((t) => t.latencyMs);
      const med = median(latencies);
      const max = Math.max(...latencies);
      const own = trials.map((t) => t.ownLatencyMs);
      const why = `latencies ${latencies.join(', ')}; less this process's stalls ${own.map(Math.round).join(', ')}`;
      expect(median(own), why).toBeLessThanOrEqual(ABORT_MEDIAN_BOUND_MS);
      expect(Math.max(...own), why).toBeLessThanOrEqual(ABORT_MAX_BOUND_MS);
      if (c.phase === 'prefill') expect(trials.map((t) => t.decodesSent)).toEqual(trials.map(() => 0));

      // The router saw each one as a client abort in the right phase, and released everything.
      const after = await stack.settle();
      expect(after).toMatchObject({ inFlight: 0, routerInbound: 0, mockLoad: 0 });
      expect(after.upstreamSockets).toBe(after.mockSockets);
      const lines = stack.log.lines.filter((l) => l.fields['outcome'] !== undefined);
      expect(lines.map((l) => [l.fields['outcome'], l.fields['detail']])).toEqual(
        trials.map(() => ['client_abort', c.phase]),
      );
      expect(stack.log.atLeast('error'), describeLines(stack.log.atLeast('error'))).toEqual([]);
      recorder.record({
        id: c.id,
        observed: `${c.upstream} call aborted: median ${Math.round(med)} ms, max ${Math.round(max)} ms over ${ABORT_TRIALS} trials${c.phase === 'prefill' ? '; no decode sent' : ''}; logged \`client_abort\` (${c.phase})`,
        timeMs: Math.round(med),
        after: formatCounters(after),
        metrics: { latenciesMs: latencies.join(' ') },
      });
    }, 60_000);
  }
});
