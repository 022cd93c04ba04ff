import { describe, expect, it } from 'vitest';
import { run, sampleReport, unpacedStreamRun } from '../../test/helpers/sample-report.js';
import { checkTargets } from './checks.js';
import { summarize } from './summary.js';

describe('summarize', () => {
  const report = sampleReport();
  const row = (scenario: string, point: string, target: string) =>
    report.summary.find((r) => r.scenario === scenario && r.point === point && r.target === target)!;

  it('combines rounds: throughput over total time, histograms merged, CPU per request', () => {
    const router = row('chat-short', 'c=64', 'pd-router');
    expect(router.rounds).toBe(2);
    expect(router.ok).toBe(14_000);
    expect(router.requestsPerS).toBeCloseTo(7_000, 6);
    expect(router.requestsPerSByRound).toEqual([7_000, 7_000]);
    expect(router.cpuUsPerRequest).toBeCloseTo(80, 6);
    expect(router.systemCpuUsPerRequest).toBeCloseTo(20, 6);
    expect(router.peakRssMb).toBeCloseTo(80, 6);
    // Evenly spread over 0.6..3 ms: the median is 1.8 ms, to bucket precision.
    expect(router.latencyMs.p50).toBeGreaterThan(1.75);
    expect(router.latencyMs.p50).toBeLessThan(1.85);
    expect(router.latencyMs.max).toBeCloseTo(3, 3);
  });

  it('compares each row with the floor at the same load', () => {
    const router = row('chat-short', 'c=64', 'pd-router');
    expect(router.vsFloor?.throughputRatio).toBeCloseTo(0.7, 6);
    expect(router.vsFloor?.addedP50Ms).toBeGreaterThan(0.55);
    expect(router.vsFloor?.addedP50Ms).toBeLessThan(0.65);
    expect(row('chat-short', 'c=64', 'floor').vsFloor).toBeNull();
    expect(row('chat-short', 'c=64', 'floor').cpuUsPerRequest).toBeNull();
    const streams = row('streams-1000', 'c=1000', 'pd-router');
    expect(streams.ttftMs).not.toBeNull();
    expect(streams.vsFloor?.addedTtftP50Ms).not.toBeNull();
    expect(streams.errors).toEqual({ http_502: 2 });
  });

  it('reports inter-token latency only where the mocks pace their tokens', () => {
    const paced = row('streams-1000', 'c=1000', 'pd-router');
    expect(paced.mockInterTokenMs).toBe(100);
    expect(paced.itlMs?.p50).toBeGreaterThan(90);
    expect(paced.itlMs?.p50).toBeLessThan(120);
    // Back-to-back tokens: the gaps were recorded, but they measure read batching, not the target.
    const [batched] = summarize([unpacedStreamRun()]);
    expect(batched!.mockInterTokenMs).toBe(0);
    expect(batched!.ttftMs).not.toBeNull();
    expect(batched!.itlMs).toBeNull();
    expect(row('chat-short', 'c=64', 'pd-router').itlMs).toBeNull();
  });

  it('has no floor comparison when no floor ran', () => {
    const rows = summarize([
      run({ scenario: 's', concurrency: 1, target: 'x', kind: 'compare', ok: 10, lowMs: 1, highMs: 2 }),
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.vsFloor).toBeNull();
  });
});

describe('checkTargets', () => {
  it('evaluates each target of the issue on the router rows', () => {
    const byId = Object.fromEntries(sampleReport().checks.map((c) => [c.id, c]));
    expect(byId['throughput-c64']).toMatchObject({ status: 'met', value: '70.0%' });
    expect(byId['added-p50-c1']?.status).toBe('missed');
    expect(byId['cpu-per-request']).toMatchObject({ status: 'met', value: '80 µs' });
    expect(byId['streams-rss']).toMatchObject({ status: 'met', value: '150.0 MB' });
    expect(byId['no-errors']).toMatchObject({ status: 'missed', value: '2 errors (pd-router 2)' });
  });

  it('counts the errors of every target, naming each one that had some', () => {
    const extra = [
      run({
        scenario: 'chat-short',
        concurrency: 1,
        target: 'floor',
        kind: 'floor',
        round: 3,
        ok: 10,
        lowMs: 1,
        highMs: 2,
        errors: { connect: 1 },
      }),
      run({
        scenario: 'chat-short',
        concurrency: 1,
        target: 'bare-node',
        kind: 'compare',
        ok: 10,
        lowMs: 1,
        highMs: 2,
        errors: { http_502: 3 },
      }),
    ];
    const byId = Object.fromEntries(sampleReport(extra).checks.map((c) => [c.id, c]));
    expect(byId['no-errors']).toMatchObject({
      status: 'missed',
      value: '6 errors (floor 1, pd-router 2, bare-node 3)',
    });
    // No router at all: the other targets' errors still count.
    const floorOnly = checkTargets(summarize([extra[0]!]));
    expect(floorOnly.find((c) => c.id === 'no-errors')).toMatchObject({
      status: 'missed',
      value: '1 error (floor 1)',
    });
    const clean = checkTargets(
      summarize([
        run({ scenario: 's', concurrency: 1, target: 'x', kind: 'compare', ok: 5, lowMs: 1, highMs: 2 }),
      ]),
    );
    expect(clean.find((c) => c.id === 'no-errors')).toMatchObject({ status: 'met', value: '0 errors' });
  });

  it('does not judge peak RSS measured on fewer streams than the issue asks for', () => {
    const quick = (rssMb: number) =>
      checkTargets(
        summarize([
          run({
            scenario: 'streams-1000',
            concurrency: 50,
            target: 'pd-router',
            kind: 'router',
            ok: 50,
            lowMs: 400,
            highMs: 420,
            rssMb,
            stream: true,
          }),
        ]),
      ).find((c) => c.id === 'streams-rss');
    expect(quick(60)).toMatchObject({ status: 'not measured', value: '60.0 MB at c=50 only' });
    expect(quick(600)?.status).toBe('not measured');
    expect(quick(60)?.description).toBe('Peak RSS with 1,000 open streams ≤ 200 MB');
  });

  it('says "not measured" rather than "met" when a scenario did not run', () => {
    const checks = checkTargets([]);
    expect(checks.map((c) => c.status)).toEqual(Array(5).fill('not measured'));
  });
});
