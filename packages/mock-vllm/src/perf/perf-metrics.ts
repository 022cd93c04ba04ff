import { pyFloat } from '../metrics.js';
import type { PerfEngine } from './engine.js';
import { TTFT_BUCKETS_S } from './engine.js';

/**
 * The performance model's series, with vLLM's names and meanings:
 * - vllm:kv_cache_usage_perc: fraction of KV blocks held by requests (1 = full); cached blocks no
 *   request holds count as free, as in vLLM.
 * - vllm:prefix_cache_queries_total / _hits_total: prompt tokens looked up in the prefix cache, and
 *   those found (hit rate = hits / queries).
 * - vllm:time_to_first_token_seconds: from arrival at this instance to its first token, in model time.
 */
export function renderPerfMetrics(engine: PerfEngine, labels: string): string {
  const s = engine.stats;
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${labels}} ${pyFloat(value)}`);
  };
  metric('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', engine.kvUsage);
  metric(
    'vllm:prefix_cache_queries_total',
    'counter',
    'Prefix cache queries, in terms of number of queried tokens.',
    s.prefixQueries,
  );
  metric(
    'vllm:prefix_cache_hits_total',
    'counter',
    'Prefix cache hits, in terms of number of cached tokens.',
    s.prefixHits,
  );
  const name = 'vllm:time_to_first_token_seconds';
  lines.push(`# HELP ${name} Histogram of time to first token in seconds.`, `# TYPE ${name} histogram`);
  let cumulative = 0;
  for (let i = 0; i < TTFT_BUCKETS_S.length; i++) {
    cumulative += s.ttftCounts[i] as number;
    lines.push(
      `${name}_bucket{${labels},le="${pyFloat(TTFT_BUCKETS_S[i] as number)}"} ${pyFloat(cumulative)}`,
    );
  }
  lines.push(
    `${name}_bucket{${labels},le="+Inf"} ${pyFloat(s.ttftCount)}`,
    `${name}_count{${labels}} ${pyFloat(s.ttftCount)}`,
    `${name}_sum{${labels}} ${pyFloat(s.ttftSumS)}`,
  );
  return `${lines.join('\n')}\n`;
}
