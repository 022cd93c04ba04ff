/**
 * vllm-router flags that pd-router deliberately lacks, with what to do instead: a drop-in user
 * gets a reason, not just "unknown flag".
 */
export const UNSUPPORTED_VLLM_ROUTER_FLAGS: ReadonlyMap<string, string> = new Map([
  ['--worker-urls', 'pd-router routes prefill/decode pairs only: use --prefill and --decode'],
]);
