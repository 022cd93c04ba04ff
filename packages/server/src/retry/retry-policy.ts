import type { RetryConfig } from '../config/types.js';
import type { UpstreamErrorKind } from '../metrics.js';

/** vllm-router's retry defaults (`--retry-*`). */
export const DEFAULT_RETRY_CONFIG: RetryConfig = Object.freeze({
  maxAttempts: 5,
  initialBackoffMs: 50,
  maxBackoffMs: 30_000,
  backoffMultiplier: 1.5,
  jitterFactor: 0.2,
});

/** Worker statuses that say "not now, try elsewhere" without the worker having done the work. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Why a leg was retried, as counted in `pd_router_retries_total{leg, reason}`. */
export type RetryReason =
  | 'connect'
  | 'reset'
  | 'timeout'
  | 'status_429'
  | 'status_502'
  | 'status_503'
  | 'status_504';

/**
 * Whether a leg's failure may be retried, and why: only failures where the worker cannot have
 * produced anything for the client (refused or reset before an answer, a retryable status, a
 * budget spent before the answer's headers). Undefined: report the failure as it is.
 *
 * @example retryReason('connect', 0, false) // 'connect'
 */
export function retryReason(
  kind: UpstreamErrorKind,
  status: number,
  headersSeen: boolean,
): RetryReason | undefined {
  if (kind === 'status')
    return RETRYABLE_STATUSES.has(status) ? (`status_${status}` as RetryReason) : undefined;
  if (headersSeen) return undefined;
  if (kind === 'connect' || kind === 'reset' || kind === 'timeout') return kind;
  return undefined;
}

/** Whether an answer's status is one a retry may replace (before anything was relayed). */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * The wait before retry number `retry` (1 for the first): the initial backoff times the multiplier
 * per earlier retry, capped, then jittered (so that clients failed together do not come back
 * together), and never above the cap.
 *
 * @example backoffMs(DEFAULT_RETRY_CONFIG, 1, () => 0.5) // 50
 */
export function backoffMs(config: RetryConfig, retry: number, random: () => number): number {
  const base = Math.min(
    config.maxBackoffMs,
    config.initialBackoffMs * config.backoffMultiplier ** (retry - 1),
  );
  const jittered = base * (1 + config.jitterFactor * (2 * random() - 1));
  return Math.max(0, Math.min(config.maxBackoffMs, Math.round(jittered)));
}
