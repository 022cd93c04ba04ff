import { checkTargets } from '../../src/report/checks.js';
import { summarize } from '../../src/report/summary.js';
import { Histogram } from '../../src/stats/histogram.js';
import type { BenchReport, RunResult, TargetKind } from '../../src/types.js';

/** A latency histogram of `n` values spread evenly over [lowMs, highMs]. */
export function spread(n: number, lowMs: number, highMs: number): Histogram {
  const h = new Histogram();
  for (let i = 0; i < n; i++) h.record((lowMs + ((highMs - lowMs) * i) / Math.max(1, n - 1)) * 1000);
  return h;
}

interface RunSpec {
  scenario: string;
  concurrency: number;
  target: string;
  kind: TargetKind;
  round?: number;
  ok: number;
  elapsedMs?: number;
  lowMs: number;
  highMs: number;
  cpuMs?: number | null;
  rssMb?: number | null;
  errors?: Record<string, number>;
  stream?: boolean;
  /** The mocks' pause between tokens; default 0 (the instant preset). */
  interTokenMs?: number;
}

export function run(spec: RunSpec): RunResult {
  const elapsedMs = spec.elapsedMs ?? 1_000;
  const latency = spread(spec.ok, spec.lowMs, spec.highMs);
  const ttft = spec.stream === true ? spread(spec.ok, spec.lowMs / 2, spec.highMs / 2) : new Histogram();
  // Streams always record gaps; at interTokenMs 0 they are read batching (mostly zeros).
  const pause = spec.interTokenMs ?? 0;
  const itl = spec.stream === true ? spread(spec.ok * 10, pause * 0.9, pause * 1.2) : new Histogram();
  const failed = Object.values(spec.errors ?? {}).reduce((a, b) => a + b, 0);
  return {
    scenario: spec.scenario,
    point: `c=${spec.concurrency}`,
    shape: { mode: 'closed', concurrency: spec.concurrency },
    target: spec.target,
    targetKind: spec.kind,
    round: spec.round ?? 1,
    startedAt: new Date(Date.UTC(2026, 0, 1) + (spec.round ?? 1) * 60_000).toISOString(),
    started: spec.ok + failed,
    ok: spec.ok,
    failed,
    unfinished: 0,
    errors: spec.errors ?? {},
    elapsedMs,
    requestsPerS: spec.ok / (elapsedMs / 1000),
    tokens: spec.stream === true ? spec.ok * 256 : 0,
    tokensPerS: spec.stream === true ? (spec.ok * 256) / (elapsedMs / 1000) : 0,
    latency: latency.toJSON(),
    ttft: ttft.toJSON(),
    itl: itl.toJSON(),
    mockInterTokenMs: pause,
    targetCpuMs: spec.kind === 'floor' ? null : (spec.cpuMs ?? 50),
    targetSystemCpuMs: spec.kind === 'floor' ? null : (spec.cpuMs ?? 50) / 4,
    targetPeakRssBytes: spec.kind === 'floor' ? null : (spec.rssMb ?? 80) * 1024 * 1024,
    peakRssSinceStart: false,
    mockCpuMs: 100,
    generatorCpuMs: 200,
  };
}

/** A stream run whose mocks do not pace tokens (back-to-back): its gaps measure read batching. */
export function unpacedStreamRun(): RunResult {
  return run({
    scenario: 's',
    concurrency: 8,
    target: 'x',
    kind: 'router',
    ok: 10,
    lowMs: 1,
    highMs: 2,
    stream: true,
  });
}

/** A two-target report: the floor and pd-router, chat-short at c=1/16/64 and streams-1000. */
export function sampleReport(extra: RunResult[] = []): BenchReport {
  const runs: RunResult[] = [];
  for (const round of [1, 2]) {
    for (const [c, floorOk, routerOk] of [
      [1, 2_000, 1_500],
      [16, 8_000, 6_000],
      [64, 10_000, 7_000],
    ] as const) {
      runs.push(
        run({
          scenario: 'chat-short',
          concurrency: c,
          target: 'floor',
          kind: 'floor',
          round,
          ok: floorOk,
          lowMs: 0.4,
          highMs: 2,
        }),
      );
      runs.push(
        run({
          scenario: 'chat-short',
          concurrency: c,
          target: 'pd-router',
          kind: 'router',
          round,
          ok: routerOk,
          lowMs: 0.6,
          highMs: 3,
          cpuMs: routerOk * 0.08,
        }),
      );
    }
  }
  runs.push(
    run({
      scenario: 'streams-1000',
      concurrency: 1000,
      target: 'floor',
      kind: 'floor',
      ok: 900,
      lowMs: 4000,
      highMs: 4200,
      stream: true,
      interTokenMs: 100,
    }),
  );
  runs.push(
    run({
      scenario: 'streams-1000',
      concurrency: 1000,
      target: 'pd-router',
      kind: 'router',
      ok: 880,
      lowMs: 4000,
      highMs: 4300,
      rssMb: 150,
      stream: true,
      interTokenMs: 100,
      errors: { http_502: 2 },
    }),
  );
  runs.push(...extra);
  const summary = summarize(runs);
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    command: 'pd-bench --rounds 2',
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU <&> "quoted"',
      memoryGb: 8,
      node: 'v20.19.0',
      platform: 'linux-x64',
      kernel: '6.1.0',
      loadAverage: [0.5, 0.4, 0.3],
    },
    settings: {
      scenarios: ['chat-short', 'streams-1000'],
      durationMs: 5_000,
      warmupMs: 1_000,
      rounds: 2,
      preset: 'instant',
      quick: false,
      targets: [
        { name: 'floor', kind: 'floor' },
        { name: 'pd-router', kind: 'router', command: 'node server/dist/cli.js --port {port}' },
      ],
    },
    runs,
    summary,
    checks: checkTargets(summary),
  };
}
