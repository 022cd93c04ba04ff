import type { GenerationPlan } from './generation-plan.js';
import type { MooncakePullResult } from './mooncake-send-table.js';
import { MOONCAKE_FAILURE_REASONS, type MooncakeReason } from './mooncake-types.js';
import {
  NIXL_READ_RESULTS,
  NIXL_RECOMPUTE_REASONS,
  type NixlReadResult,
  type NixlRecomputeReason,
} from './nixl-types.js';

/** Counters a mock instance keeps; rendered with vLLM's metric names on GET /metrics. */
export class MockMetrics {
  promptTokens = 0;
  generationTokens = 0;
  /** Finished requests by finish reason (vllm:request_success_total). */
  readonly success = new Map<string, number>();
  /** Requests answered with an error status or an in-stream error. */
  requestErrors = 0;
  kvSent = 0;
  kvReceived = 0;
  kvWaitTimeouts = 0;
  /** Requests whose id names no usable address (P without decode, D without prefill) or lost pushes. */
  kvErrors = 0;
  /** NIXL decode: blocks read from a prefill. */
  nixlReads = 0;
  /** NIXL decode: local prefills instead of a transfer, by reason. */
  readonly nixlRecomputes = new Map<NixlRecomputeReason, number>();
  /** NIXL prefill: side-channel reads answered, by result. */
  readonly nixlReadsServed = new Map<NixlReadResult, number>();
  /** NIXL prefill: held requests (and their blocks) whose TTL ran out unread. */
  nixlExpiredRequests = 0;
  nixlExpiredBlocks = 0;
  /** Mooncake decode: KV pulled from a prefill. */
  mooncakePulls = 0;
  /** Mooncake decode: failed transfers, by reason. */
  readonly mooncakeFailures = new Map<MooncakeReason, number>();
  /** Mooncake prefill: pulls answered, by result. */
  readonly mooncakePullsServed = new Map<MooncakePullResult, number>();
  /** Mooncake prefill: held KV freed unpulled after the abort timeout. */
  mooncakeExpired = 0;

  /** A request answered in full: its generated tokens and one success per choice. */
  countFinished(plan: Pick<GenerationPlan, 'completionTokens' | 'finishReason' | 'choices'>): void {
    this.generationTokens += plan.completionTokens;
    this.success.set(plan.finishReason, (this.success.get(plan.finishReason) ?? 0) + plan.choices.length);
  }

  reset(): void {
    this.promptTokens = 0;
    this.generationTokens = 0;
    this.success.clear();
    this.requestErrors = 0;
    this.kvSent = 0;
    this.kvReceived = 0;
    this.kvWaitTimeouts = 0;
    this.kvErrors = 0;
    this.nixlReads = 0;
    this.nixlRecomputes.clear();
    this.nixlReadsServed.clear();
    this.nixlExpiredRequests = 0;
    this.nixlExpiredBlocks = 0;
    this.mooncakePulls = 0;
    this.mooncakeFailures.clear();
    this.mooncakePullsServed.clear();
    this.mooncakeExpired = 0;
  }
}

export interface MetricsSnapshot {
  readonly model: string;
  readonly running: number;
  readonly waiting: number;
  /** Present on NIXL instances: the blocks held for remote decodes. */
  readonly nixl?: { readonly heldRequests: number; readonly heldBlocks: number };
  /** Present on Mooncake instances: the transfers held for remote decodes. */
  readonly mooncake?: { readonly heldTransfers: number };
}

/** prometheus_client prints every sample as a Python float: `3.0`, `0.5`. */
export function pyFloat(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The labels of every series: vLLM's `engine` and `model_name`. */
export function metricLabels(model: string): string {
  return `engine="0",model_name="${escapeLabel(model)}"`;
}

/**
 * Prometheus text in vLLM's naming (`vllm:` prefix, `engine` and `model_name` labels). The
 * `vllm:kv_transfer_*` and `vllm:request_errors_total` counters are the mock's own: vLLM's P2P NCCL
 * connector exports no such counters.
 */
export function renderMetrics(m: MockMetrics, s: MetricsSnapshot): string {
  const labels = metricLabels(s.model);
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}} ${pyFloat(value)}`);
  };
  metric('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', s.running);
  metric('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', s.waiting);
  metric('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', m.promptTokens);
  metric(
    'vllm:generation_tokens_total',
    'counter',
    'Number of generation tokens processed.',
    m.generationTokens,
  );
  lines.push(
    '# HELP vllm:request_success_total Count of successfully processed requests.',
    '# TYPE vllm:request_success_total counter',
  );
  for (const reason of ['length', 'stop']) {
    lines.push(
      `vllm:request_success_total{${labels},finished_reason="${reason}"} ${pyFloat(m.success.get(reason) ?? 0)}`,
    );
  }
  metric(
    'vllm:request_errors_total',
    'counter',
    'Requests answered with an error (mock only).',
    m.requestErrors,
  );
  metric(
    'vllm:kv_transfer_sent_total',
    'counter',
    'KV ready notices sent by this prefill (mock only).',
    m.kvSent,
  );
  metric(
    'vllm:kv_transfer_received_total',
    'counter',
    'KV ready notices received by this instance (mock only).',
    m.kvReceived,
  );
  metric(
    'vllm:kv_transfer_wait_timeouts_total',
    'counter',
    'Decode requests whose KV did not arrive in time (mock only).',
    m.kvWaitTimeouts,
  );
  metric(
    'vllm:kv_transfer_errors_total',
    'counter',
    'Requests whose id named no usable KV address, or whose push failed (mock only).',
    m.kvErrors,
  );
  if (s.nixl !== undefined) renderNixlMetrics(m, s.nixl, labels, metric, lines);
  if (s.mooncake !== undefined) renderMooncakeMetrics(m, s.mooncake, labels, metric, lines);
  return `${lines.join('\n')}\n`;
}

/**
 * The mock's NIXL series. vLLM's own NIXL stats (transfer times, failed transfers) have no
 * equivalent here; these say what a router test needs: held blocks, expiries, reads, recomputes.
 */
function renderNixlMetrics(
  m: MockMetrics,
  held: NonNullable<MetricsSnapshot['nixl']>,
  labels: string,
  metric: (name: string, type: 'gauge' | 'counter', help: string, value: number) => void,
  lines: string[],
): void {
  metric(
    'vllm:nixl_held_requests',
    'gauge',
    'Requests whose KV blocks wait for a remote decode (mock only).',
    held.heldRequests,
  );
  metric('vllm:nixl_held_blocks', 'gauge', 'KV blocks held for remote decodes (mock only).', held.heldBlocks);
  metric(
    'vllm:nixl_expired_requests_total',
    'counter',
    'Held requests freed unread after the block TTL (mock only).',
    m.nixlExpiredRequests,
  );
  metric(
    'vllm:nixl_expired_blocks_total',
    'counter',
    'Held KV blocks freed unread after the block TTL (mock only).',
    m.nixlExpiredBlocks,
  );
  const labelled = labelledCounter(labels, lines);
  labelled(
    'vllm:nixl_reads_served_total',
    'Side-channel block reads this prefill answered, by result (mock only).',
    'result',
    NIXL_READ_RESULTS,
    m.nixlReadsServed,
  );
  metric(
    'vllm:nixl_kv_reads_total',
    'counter',
    'KV block reads this decode completed (mock only).',
    m.nixlReads,
  );
  labelled(
    'vllm:nixl_recomputes_total',
    'Decode requests that prefilled locally instead of reading remote KV, by reason (mock only).',
    'reason',
    NIXL_RECOMPUTE_REASONS,
    m.nixlRecomputes,
  );
}

type MetricLine = (name: string, type: 'gauge' | 'counter', help: string, value: number) => void;

/** Writes a counter with one sample per key of `keys` under `label` (absent keys: 0). */
function labelledCounter(labels: string, lines: string[]) {
  return (
    name: string,
    help: string,
    label: string,
    keys: readonly string[],
    values: ReadonlyMap<string, number>,
  ): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const key of keys)
      lines.push(`${name}{${labels},${label}="${key}"} ${pyFloat(values.get(key) ?? 0)}`);
  };
}

/** The mock's Mooncake series: held transfers, expiries, pulls served and made, failed transfers. */
function renderMooncakeMetrics(
  m: MockMetrics,
  held: NonNullable<MetricsSnapshot['mooncake']>,
  labels: string,
  metric: MetricLine,
  lines: string[],
): void {
  metric(
    'vllm:mooncake_held_transfers',
    'gauge',
    'Finished prefills whose KV waits for a remote decode to pull it (mock only).',
    held.heldTransfers,
  );
  metric(
    'vllm:mooncake_expired_transfers_total',
    'counter',
    'Held KV freed unpulled after VLLM_MOONCAKE_ABORT_REQUEST_TIMEOUT (mock only).',
    m.mooncakeExpired,
  );
  const labelled = labelledCounter(labels, lines);
  labelled(
    'vllm:mooncake_pulls_served_total',
    'KV pulls this prefill answered, by result (mock only).',
    'result',
    ['ok', 'timeout', 'aborted'],
    m.mooncakePullsServed,
  );
  metric(
    'vllm:mooncake_kv_pulls_total',
    'counter',
    'KV pulls this decode completed (mock only).',
    m.mooncakePulls,
  );
  labelled(
    'vllm:mooncake_transfer_failures_total',
    'Decode requests whose KV transfer failed, by reason (mock only).',
    'reason',
    MOONCAKE_FAILURE_REASONS,
    m.mooncakeFailures,
  );
}
