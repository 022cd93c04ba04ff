import { join } from 'node:path';
import { type MockCluster, startMockCluster } from './cluster/mock-cluster.js';
import { BenchError } from './errors.js';
import { type LoadProgress, type LoadShape, type LoadTarget, runLoad } from './load/generator.js';
import { resetPeakRss, sampleProcessTree } from './proc/proc-sampler.js';
import { checkTargets } from './report/checks.js';
import { machineInfo } from './report/machine.js';
import { summarize } from './report/summary.js';
import { buildScenarios, pointLabel, type Scenario } from './scenarios.js';
import type { CommandTemplate } from './targets/command-template.js';
import { createFloorTarget } from './targets/floor-target.js';
import { createHttpTarget, type PoolSettings } from './targets/http-target.js';
import { type RunningProcess, startProcessTarget } from './targets/process-target.js';
import type { BenchOptions, BenchReport, RunResult, TargetKind } from './types.js';

/**
 * Orchestration: for each scenario, one mock cluster; for each round, each target in turn (A B
 * A B, so slow drift of the machine hits every target alike); for each load level, a warm-up on
 * the same connections, then the measured run with /proc samples of the target and the mocks
 * before and after. Each run keeps its round and start time, so results.json shows the order.
 */

/** Where a run is, for progress display. */
export interface RunContext {
  readonly scenario: string;
  readonly point: string;
  readonly target: string;
  readonly round: number;
  readonly rounds: number;
  readonly phase: 'warmup' | 'measure';
  readonly durationMs: number;
}

export interface BenchHooks {
  /** A phase message (starting the cluster, a target...). */
  readonly onStatus?: (message: string) => void;
  readonly onProgress?: (context: RunContext, progress: LoadProgress) => void;
  readonly onRunEnd?: (context: RunContext, result: RunResult) => void;
}

interface TargetPlan {
  readonly name: string;
  readonly kind: TargetKind;
  readonly template?: CommandTemplate;
}

const OPEN_LOOP_CONNECTIONS = 256;
const WARMUP_DRAIN_MS = 30_000;

function plan(options: BenchOptions): TargetPlan[] {
  const targets: TargetPlan[] = [];
  if (options.floor) targets.push({ name: 'floor', kind: 'floor' });
  if (options.router !== undefined)
    targets.push({ name: options.router.name, kind: 'router', template: options.router });
  for (const t of options.compare) targets.push({ name: t.name, kind: 'compare', template: t });
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw new BenchError('PD_ERR_BENCH_USAGE', `two targets are named "${t.name}"`);
    names.add(t.name);
  }
  if (targets.length === 0) throw new BenchError('PD_ERR_BENCH_USAGE', 'no target to measure');
  return targets;
}

function poolSettings(shape: LoadShape, options: BenchOptions): PoolSettings {
  const connections =
    shape.mode === 'closed' ? shape.concurrency : Math.min(shape.maxInFlight, OPEN_LOOP_CONNECTIONS);
  return { connections: Math.max(1, connections), timeoutMs: options.requestTimeoutMs };
}

function withCpuProf(template: CommandTemplate, dir: string): CommandTemplate {
  const [program, ...rest] = template.argv;
  if (program === undefined || !/(^|\/)node$/.test(program)) return template;
  return { ...template, argv: [program, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...rest] };
}

/**
 * Runs every scenario against every target and returns the full report (reports are written to
 * disk by `writeReport`).
 *
 * @example
 * const report = await runBenchmark({ ...defaults, scenarios: ['chat-short'], quick: true });
 * console.log(report.checks);
 */
export async function runBenchmark(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const targets = plan(options);
  const scenarios = buildScenarios(options.scenarios, {
    quick: options.quick,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.rates === undefined ? {} : { rates: options.rates }),
  });
  const runs: RunResult[] = [];
  for (const scenario of scenarios) {
    hooks.onStatus?.(`${scenario.name}: starting the mock cluster (preset ${options.preset})`);
    let cluster: MockCluster;
    try {
      cluster = await startMockCluster({
        preset: options.preset,
        ...(scenario.timing === undefined ? {} : { timing: scenario.timing }),
        ...(options.kvConnector === undefined ? {} : { kvConnector: options.kvConnector }),
        logPath: join(options.outDir, 'logs', `mock-cluster-${scenario.name}.log`),
      });
    } catch (error) {
      throw new BenchError('PD_ERR_BENCH_CLUSTER_START', (error as Error).message, { cause: error });
    }
    try {
      for (let round = 1; round <= options.rounds; round++) {
        for (const target of targets) {
          runs.push(...(await runTarget(scenario, target, round, cluster, options, hooks)));
        }
      }
    } finally {
      await cluster.stop();
    }
  }
  const summary = summarize(runs);
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
    machine,
    settings: {
      scenarios: scenarios.map((s) => s.name),
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      rounds: options.rounds,
      preset: options.preset,
      ...(options.kvConnector === undefined ? {} : { kvConnector: options.kvConnector }),
      quick: options.quick,
      targets: targets.map((t) => ({
        name: t.name,
        kind: t.kind,
        ...(t.template === undefined ? {} : { command: t.template.argv.join(' ') }),
      })),
    },
    runs,
    summary,
    checks: checkTargets(summary),
  };
}

async function runTarget(
  scenario: Scenario,
  target: TargetPlan,
  round: number,
  cluster: MockCluster,
  options: BenchOptions,
  hooks: BenchHooks,
): Promise<RunResult[]> {
  let proc: RunningProcess | undefined;
  if (target.template !== undefined) {
    hooks.onStatus?.(`${scenario.name}: starting ${target.name} (round ${round}/${options.rounds})`);
    const template = options.cpuProf
      ? withCpuProf(target.template, join(options.outDir, 'profiles'))
      : target.template;
    proc = await startProcessTarget({
      template,
      cluster,
      logPath: join(options.outDir, 'logs', `${target.name}-${scenario.name}-r${round}.log`),
    });
  }
  const results: RunResult[] = [];
  try {
    for (const shape of scenario.points) {
      const settings = poolSettings(shape, options);
      const load: LoadTarget =
        proc === undefined
          ? createFloorTarget(cluster, scenario.request, settings, options.kvConnector)
          : createHttpTarget(proc.origin, scenario.request, settings);
      try {
        results.push(await measure(scenario, shape, target, round, load, proc, cluster, options, hooks));
      } finally {
        await load.close();
      }
    }
  } finally {
    await proc?.stop();
  }
  return results;
}

async function measure(
  scenario: Scenario,
  shape: LoadShape,
  target: TargetPlan,
  round: number,
  load: LoadTarget,
  proc: RunningProcess | undefined,
  cluster: MockCluster,
  options: BenchOptions,
  hooks: BenchHooks,
): Promise<RunResult> {
  const warmupMs = scenario.warmup === false ? 0 : options.warmupMs;
  const context = (phase: RunContext['phase']): RunContext => ({
    scenario: scenario.name,
    point: pointLabel(shape),
    target: target.name,
    round,
    rounds: options.rounds,
    phase,
    durationMs: phase === 'warmup' ? warmupMs : options.durationMs,
  });
  const progress = (ctx: RunContext) =>
    hooks.onProgress === undefined ? {} : { onProgress: (p: LoadProgress) => hooks.onProgress?.(ctx, p) };
  if (warmupMs > 0) {
    // Same connections and load shape as the measured run, so JIT, pools and sockets are warm.
    await runLoad(load, {
      shape,
      durationMs: warmupMs,
      maxRequests: options.maxRequests,
      drainTimeoutMs: Math.min(options.drainTimeoutMs, WARMUP_DRAIN_MS),
      ...progress(context('warmup')),
    });
  }
  const resetOk = proc === undefined ? true : resetPeakRss(proc.pid);
  const before = proc === undefined ? undefined : sampleProcessTree(proc.pid);
  const mockBefore = sampleProcessTree(cluster.pid);
  const startedAt = new Date().toISOString();
  const result = await runLoad(load, {
    shape,
    durationMs: options.durationMs,
    maxRequests: options.maxRequests,
    drainTimeoutMs: options.drainTimeoutMs,
    ...progress(context('measure')),
  });
  const after = proc === undefined ? undefined : sampleProcessTree(proc.pid);
  const mockAfter = sampleProcessTree(cluster.pid);
  const r = result.recorder;
  const seconds = result.elapsedMs / 1000;
  const run: RunResult = {
    scenario: scenario.name,
    point: pointLabel(shape),
    shape,
    target: target.name,
    targetKind: target.kind,
    round,
    startedAt,
    started: result.started,
    ok: r.ok,
    failed: r.failed,
    unfinished: r.unfinished,
    errors: Object.fromEntries(r.errors),
    elapsedMs: result.elapsedMs,
    requestsPerS: r.ok / seconds,
    tokens: r.tokens,
    tokensPerS: r.tokens / seconds,
    latency: r.latency.toJSON(),
    ttft: r.ttft.toJSON(),
    itl: r.itl.toJSON(),
    mockInterTokenMs: cluster.interTokenMs,
    targetCpuMs: before === undefined || after === undefined ? null : after.cpuMs - before.cpuMs,
    targetSystemCpuMs:
      before === undefined || after === undefined ? null : after.systemCpuMs - before.systemCpuMs,
    targetPeakRssBytes: after === undefined ? null : after.peakRssBytes,
    peakRssSinceStart: !resetOk,
    mockCpuMs:
      mockBefore === undefined || mockAfter === undefined ? null : mockAfter.cpuMs - mockBefore.cpuMs,
    generatorCpuMs: result.generatorCpuMs,
  };
  hooks.onRunEnd?.(context('measure'), run);
  return run;
}
