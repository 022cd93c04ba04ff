import { afterAll, describe, expect, it } from 'vitest';
import type { LoadRunResult } from '../src/load/load-client.js';
import { openFileLimit } from '../src/load/load-cluster.js';
import { closedLoopRun, streamBurstRun } from '../src/load/load-runs.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { BURST_ID, CLOSED_LOOP_ID, closedLoopSeconds, LOAD } from '../src/scenarios/load.js';

const MIB = 1_048_576;
const recorder = new ResultRecorder('load');

afterAll(() => recorder.flush());

function metrics(
  r: LoadRunResult,
  rssBase: number,
  rssPeak: number,
  burst: boolean,
): Record<string, number | string> {
  return {
    requests: r.requests,
    ok: r.ok,
    errors: r.errorCount,
    // Streams open at once; in a closed loop of short answers this means little.
    peakOpen: burst ? r.peakOpen : '',
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    ttfbP99Ms: r.ttfb.p99,
    requestsPerSecond: r.requestsPerSecond,
    durationMs: r.durationMs,
    routerRssStartMiB: Math.round(rssBase / MIB),
    routerRssPeakMiB: Math.round(rssPeak / MIB),
  };
}

describe('load through the router CLI over a mock cluster', () => {
  it(BURST_ID, async () => {
    const needed = 2 * LOAD.streams + 1_000;
    expect(
      openFileLimit(),
      `ulimit -n must be at least ${needed} for ${LOAD.streams} streams`,
    ).toBeGreaterThanOrEqual(needed);
    const {
      result: r,
      rssStartBytes: base,
      rssPeakBytes: peak,
      warnings,
    } = await streamBurstRun(LOAD.streams);
    expect(r.errors).toEqual({});
    expect(r.ok).toBe(LOAD.streams);
    expect(r.peakOpen).toBe(LOAD.streams);
    expect(warnings).toEqual([]);
    recorder.record({
      id: BURST_ID,
      observed: `all ${r.ok.toLocaleString('en-US')} open at once (peak ${r.peakOpen}) and end with \`[DONE]\`; no error; nothing logged at warn or above`,
      timeMs: r.latency.p99,
      metrics: metrics(r, base, peak, true),
    });
  }, 240_000);

  it(CLOSED_LOOP_ID, async () => {
    const seconds = closedLoopSeconds();
    const {
      result: r,
      rssStartBytes: base,
      rssPeakBytes: peak,
      warnings,
    } = await closedLoopRun(LOAD.concurrency, seconds * 1_000);
    expect(r.errors).toEqual({});
    expect(r.ok).toBeGreaterThan(LOAD.concurrency);
    expect(warnings).toEqual([]);
    recorder.record({
      id: CLOSED_LOOP_ID,
      observed: `no error in ${r.ok.toLocaleString('en-US')} requests over ${seconds} s; nothing logged at warn or above; p99 ${r.latency.p99} ms, router peak RSS ${Math.round(peak / MIB)} MiB`,
      timeMs: r.latency.p99,
      metrics: metrics(r, base, peak, false),
    });
  }, 180_000);
});
