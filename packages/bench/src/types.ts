import type { KvConnectorName } from './cluster/cluster-protocol.js';
import type { LoadShape } from './load/generator.js';
import type { HistogramJson } from './stats/histogram.js';
import type { CommandTemplate } from './targets/command-template.js';

/** What `runBenchmark` needs; the CLI builds it from flags (see README for defaults). */
export interface BenchOptions {
  /** Scenario names (`all` for every one). */
  readonly scenarios: readonly string[];
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly rounds: number;
  /** mock-vllm timing preset. */
  readonly preset: string;
  /** KV connector of the mocks, the floor and the default router; absent: `p2p-nccl`. */
  readonly kvConnector?: KvConnectorName;
  readonly quick: boolean;
  readonly concurrency?: readonly number[];
  readonly rates?: readonly number[];
  /** The router under test; undefined leaves it out. */
  readonly router?: CommandTemplate;
  /** Measure the floor (direct P then D). */
  readonly floor: boolean;
  /** Other proxies measured side by side. */
  readonly compare: readonly CommandTemplate[];
  /** Directory for logs (and profiles); reports are written by `writeReport`. */
  readonly outDir: string;
  readonly requestTimeoutMs: number;
  readonly drainTimeoutMs: number;
  /** Per run, an upper bound on requests started. */
  readonly maxRequests: number;
  /** Run node targets with `--cpu-prof` (profiles in `<outDir>/profiles`). */
  readonly cpuProf: boolean;
}

export type TargetKind = 'router' | 'floor' | 'compare';

/** One measured run: one load level of one scenario against one target in one round. */
export interface RunResult {
  readonly scenario: string;
  readonly point: string;
  readonly shape: LoadShape;
  readonly target: string;
  readonly targetKind: TargetKind;
  readonly round: number;
  /**
   * When the measured part began (ISO 8601, after the warm-up): with `round`, the order in which
   * the targets were measured (A B A B) can be read back from results.json.
   */
  readonly startedAt: string;
  /** Requests started in the measured part. */
  readonly started: number;
  readonly ok: number;
  readonly failed: number;
  readonly unfinished: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly requestsPerS: number;
  readonly tokens: number;
  readonly tokensPerS: number;
  readonly latency: HistogramJson;
  readonly ttft: HistogramJson;
  /** Gaps between successive token events as received; see `mockInterTokenMs`. */
  readonly itl: HistogramJson;
  /**
   * The mocks' pause between two tokens in this scenario. At 0 (the `instant` preset) a stream's
   * events arrive several to a read, so `itl` holds read batching, not pacing.
   */
  readonly mockInterTokenMs: number;
  /** CPU of the target's process tree during the run (null for the floor). */
  readonly targetCpuMs: number | null;
  /** The kernel part of `targetCpuMs` (null for the floor). */
  readonly targetSystemCpuMs: number | null;
  /** Peak RSS of the target's process tree during the run (null for the floor). */
  readonly targetPeakRssBytes: number | null;
  /** True when the peak could not be reset, so it counts from the target's start. */
  readonly peakRssSinceStart: boolean;
  readonly mockCpuMs: number | null;
  readonly generatorCpuMs: number;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Rounds of one (scenario, load level, target) combined. */
export interface SummaryRow {
  readonly scenario: string;
  readonly point: string;
  readonly shape: LoadShape;
  readonly target: string;
  readonly targetKind: TargetKind;
  readonly rounds: number;
  readonly requestsPerS: number;
  readonly requestsPerSByRound: readonly number[];
  readonly tokensPerS: number;
  readonly latencyMs: Percentiles;
  readonly ttftMs: Percentiles | null;
  /**
   * Inter-token latency; null without streams, and null where the mocks send tokens back to back
   * (`mockInterTokenMs` 0): those gaps measure how reads batch events, not the target.
   */
  readonly itlMs: Percentiles | null;
  readonly mockInterTokenMs: number;
  readonly cpuUsPerRequest: number | null;
  /** The kernel (system time) part of `cpuUsPerRequest`. */
  readonly systemCpuUsPerRequest: number | null;
  readonly peakRssMb: number | null;
  readonly mockCpuUsPerRequest: number | null;
  readonly generatorCpuUsPerRequest: number;
  readonly ok: number;
  readonly failed: number;
  readonly unfinished: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Against the floor at the same scenario and load level; null without a floor. */
  readonly vsFloor: {
    readonly throughputRatio: number;
    readonly addedP50Ms: number;
    readonly addedTtftP50Ms: number | null;
  } | null;
}

export type CheckStatus = 'met' | 'missed' | 'not measured';

/** One of the targets, evaluated on the router's results (errors: on every target's). */
export interface TargetCheck {
  readonly id: string;
  readonly description: string;
  readonly value: string;
  readonly status: CheckStatus;
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
  readonly loadAverage: readonly number[];
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: MachineInfo;
  /** `kvConnector` is absent in reports written before `--kv-connector` existed: `p2p-nccl`. */
  readonly settings: Pick<
    BenchOptions,
    'scenarios' | 'durationMs' | 'warmupMs' | 'rounds' | 'preset' | 'kvConnector' | 'quick'
  > & {
    readonly targets: readonly {
      readonly name: string;
      readonly kind: TargetKind;
      readonly command?: string;
    }[];
  };
  readonly runs: readonly RunResult[];
  readonly summary: readonly SummaryRow[];
  readonly checks: readonly TargetCheck[];
}
