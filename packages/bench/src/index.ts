// The public API of @pd-router/bench, listed by hand: anything not exported here is private.

export type { CliCommand } from './cli-args.js';
export {
  BARE_NAME,
  bareTemplate,
  DEFAULTS,
  defaultRouterTemplate,
  HELP,
  parseBenchArgs,
  QUICK_DEFAULTS,
  ROUTER_NAME,
} from './cli-args.js';
export type { MockTiming } from './cluster/cluster-protocol.js';
export type {
  ClusterAddresses,
  MockCluster,
  MockClusterOptions,
  WorkerEndpoint,
} from './cluster/mock-cluster.js';
export { startMockCluster } from './cluster/mock-cluster.js';
export type { BenchErrorCode } from './errors.js';
export { BENCH_ERROR_CODES, BenchError } from './errors.js';
export type { LoadOptions, LoadProgress, LoadResult, LoadShape, LoadTarget } from './load/generator.js';
export { runLoad } from './load/generator.js';
export { RequestProbe, RunRecorder } from './load/recorder.js';
export type { ProcSample } from './proc/proc-sampler.js';
export { resetPeakRss, sampleProcessTree } from './proc/proc-sampler.js';
export { checkTargets } from './report/checks.js';
export { renderMarkdown, renderScenarioTable } from './report/markdown.js';
export { summarize } from './report/summary.js';
export { renderChart } from './report/svg-chart.js';
export type { WrittenReport } from './report/write-report.js';
export { writeReport } from './report/write-report.js';
export type { BenchHooks, RunContext } from './runner.js';
export { runBenchmark } from './runner.js';
export type { Scenario, ScenarioOptions } from './scenarios.js';
export { buildScenarios, DEFAULT_SCENARIOS, SCENARIO_NAMES } from './scenarios.js';
export type { HistogramJson } from './stats/histogram.js';
export { Histogram } from './stats/histogram.js';
export type { CommandTemplate } from './targets/command-template.js';
export { parseCompare } from './targets/command-template.js';
export { createFloorTarget } from './targets/floor-target.js';
export type { PoolSettings, RequestSpec } from './targets/http-target.js';
export { createHttpTarget } from './targets/http-target.js';
export type {
  BenchOptions,
  BenchReport,
  CheckStatus,
  MachineInfo,
  Percentiles,
  RunResult,
  SummaryRow,
  TargetCheck,
  TargetKind,
} from './types.js';
