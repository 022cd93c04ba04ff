import type { FaultSpec } from '@pd-router/mock-vllm';
import type { ClientOutcome } from '../report/outcome.js';
import type { FaultCase, FaultStack } from './faults.js';

/** A NIXL prompt long enough for KV blocks (16 tokens each; the mock counts ~4 characters a token). */
export const NIXL_PROMPT = 'reliability '.repeat(20);

const OK_JSON: ClientOutcome = { status: 200, end: 'body' };
const OK_SSE: ClientOutcome = { status: 200, end: 'done' };

function served(
  name: string,
  fault: FaultSpec,
  stack: FaultStack,
  decodeNixl: string,
  note?: string,
): FaultCase {
  return {
    name,
    role: 'prefill',
    fault,
    stack,
    json: OK_JSON,
    stream: OK_SSE,
    budget: 'none',
    noDecode: false,
    decodeNixl,
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * mock-vllm's NIXL faults (and `kv-never-arrives` in NIXL mode) against a router with
 * `--kv-connector nixl`: a transfer that cannot happen is a recompute (the answer is still right),
 * except unusable parameters under `--nixl-on-missing-params fail` (docs/kv-connectors.md).
 */
export const NIXL_FAULT_CASES: readonly FaultCase[] = [
  served('nixl-no-params', { kind: 'nixl-no-params' }, 'nixl', 'decode-recompute (missing_params)'),
  served(
    'nixl-no-params-fail-mode',
    { kind: 'nixl-no-params' },
    'nixl-fail',
    'decode-recompute (missing_params)',
    '`kv_transfer_params: null` always recomputes',
  ),
  served(
    'nixl-bad-params',
    { kind: 'nixl-bad-params' },
    'nixl',
    'decode-recompute (missing_params)',
    'the router drops unusable params',
  ),
  {
    name: 'nixl-bad-params-fail-mode',
    role: 'prefill',
    fault: { kind: 'nixl-bad-params' },
    stack: 'nixl-fail',
    json: { status: 502, code: 'PD_ERR_KV_PARAMS_INVALID', end: 'body' },
    stream: { status: 502, code: 'PD_ERR_KV_PARAMS_INVALID', end: 'body' },
    budget: 'none',
    noDecode: true,
  },
  served('nixl-refuse-reads', { kind: 'nixl-refuse-reads' }, 'nixl', 'decode-recompute (read_refused)'),
  served('nixl-kv-never-arrives', { kind: 'kv-never-arrives' }, 'nixl', 'decode-recompute (read_not_found)'),
];
