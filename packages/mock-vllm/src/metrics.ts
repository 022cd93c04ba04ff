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

  reset(): void {
    this.promptTokens = 0;
    this.generationTokens = 0;
    this.success.clear();
    this.requestErrors = 0;
    this.kvSent = 0;
    this.kvReceived = 0;
    this.kvWaitTimeouts = 0;
    this.kvErrors = 0;
  }
}

export interface MetricsSnapshot {
  readonly model: string;
  readonly running: number;
  readonly waiting: number;
}

/** prometheus_client prints every sample as a Python float: `3.0`, `0.5`. */
function pyFloat(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Prometheus text in vLLM's naming (`vllm:` prefix, `engine` and `model_name` labels). The
 * `vllm:kv_transfer_*` and `vllm:request_errors_total` counters are the mock's own: vLLM's P2P NCCL
 * connector exports no such counters.
 */
export function renderMetrics(m: MockMetrics, s: MetricsSnapshot): string {
  const labels = `engine="0",model_name="${escapeLabel(s.model)}"`;
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
  return `${lines.join('\n')}\n`;
}
