/**
 * vllm-router flags that pd-router deliberately lacks, with what to do instead: a drop-in user
 * gets a reason, not just "unknown flag".
 */
export const UNSUPPORTED_VLLM_ROUTER_FLAGS: ReadonlyMap<string, string> = new Map([
  ['--worker-urls', 'pd-router routes prefill/decode pairs only: use --prefill and --decode'],
  [
    '--request-timeout-secs',
    'use --prefill-timeout-ms, --decode-ttft-timeout-ms and --stream-idle-timeout-ms (no total cap)',
  ],
  ['--disable-retries', 'pd-router does not retry: a failed request is reported, never replayed'],
  ['--retry-max-retries', 'pd-router does not retry: a failed request is reported, never replayed'],
  ['--health-check-interval-secs', 'use --health-check-interval-ms'],
  ['--health-check-timeout-secs', 'use --health-check-timeout-ms'],
  ['--health-check-endpoint', 'workers are checked with GET /health, the route vLLM serves'],
  ['--cb-failure-threshold', 'use --circuit-failure-threshold'],
  ['--cb-timeout-duration-secs', 'use --circuit-open-ms'],
  ['--cb-success-threshold', 'one successful half-open probe closes the circuit; see --circuit-open-ms'],
  ['--cb-window-duration-secs', 'the circuit counts consecutive failures, not failures per window'],
  ['--disable-circuit-breaker', 'use --circuit-failure-threshold 0'],
]);
