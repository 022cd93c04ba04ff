import type { FastifyBaseLogger } from 'fastify';

/** Status counted for clients that left before their answer (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

/** Outcome names in the per-request log line. */
export type Outcome =
  | 'ok'
  | 'bad_request'
  | 'no_worker'
  | 'prefill_failed'
  | 'decode_failed'
  | 'stream_failed'
  | 'client_abort'
  | 'client_stalled'
  | 'internal_error'
  /** The decode's own 5xx answer, relayed as is: not ok, so logged at warn. */
  | 'upstream_error'
  /** `--request-timeout-secs` ran out (before the first byte: 504; mid-stream: the SSE error event). */
  | 'request_timeout'
  /** The decode's own 4xx answer (the client's mistake, such as an unknown model), relayed: at info, not a worker failure. */
  | 'client_error';

/** Outcomes logged at info; the others are upstream or routing failures, logged at warn. */
const QUIET_OUTCOMES: ReadonlySet<Outcome> = new Set([
  'ok',
  'bad_request',
  'client_error',
  'client_abort',
  'client_stalled',
]);

/** Writes a request's one log line: at info when it went as it should, else at warn. */
export function logOutcome(log: FastifyBaseLogger, outcome: Outcome, line: Record<string, unknown>): void {
  if (QUIET_OUTCOMES.has(outcome)) log.info(line, 'proxied request');
  else log.warn(line, 'proxied request failed');
}

/** Milliseconds to the microsecond for the log line; undefined for a phase that never started (-1). */
export function roundMs(ms: number): number | undefined {
  return ms < 0 ? undefined : Math.round(ms * 1_000) / 1_000;
}
