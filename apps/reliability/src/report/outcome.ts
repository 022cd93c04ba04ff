import type { CompletionResult } from '../harness/client.js';
import { errorCodeOf } from '../harness/http-response-parser.js';
import type { Counters } from '../harness/stack.js';

/** How an answer ended, as the client sees it. */
export type AnswerEnd =
  /** A complete non-SSE body. */
  | 'body'
  /** An SSE stream that ended with `data: [DONE]` and no error event. */
  | 'done'
  /** An SSE stream whose last event carrying data is an `{"error": ...}` event (router's or worker's). */
  | 'error-event'
  /** The connection broke after the status line: the body is cut short. */
  | 'broken';

/** What the client sees: the status, the error code (JSON body or SSE error event) and how it ended. */
export interface ClientOutcome {
  readonly status: number;
  readonly code?: string;
  readonly end: AnswerEnd;
}

/** The outcome of a completion the client read to its end. */
export function outcomeOf(result: CompletionResult): ClientOutcome {
  if (result.transportError !== undefined) return withCode(result.status, result.code, 'broken');
  if (result.events.length === 0) return withCode(result.status, result.code, 'body');
  // The last error event (vLLM's in-stream error is followed by [DONE]; the router's is the last event).
  const errorEvent = [...result.events].reverse().find((e) => errorCodeOf(e) !== undefined);
  if (errorEvent !== undefined) return withCode(result.status, errorCodeOf(errorEvent), 'error-event');
  return withCode(result.status, undefined, result.events.at(-1) === '[DONE]' ? 'done' : 'body');
}

function withCode(status: number, code: string | undefined, end: AnswerEnd): ClientOutcome {
  return code === undefined ? { status, end } : { status, code, end };
}

/**
 * The outcome in words, for docs/reliability.md: the same text for an expectation and for what was
 * observed, so a matching row reads the same twice.
 *
 * @example
 * formatOutcome({ status: 504, code: 'PD_ERR_PREFILL_TIMEOUT', end: 'body' }) // '504 `PD_ERR_PREFILL_TIMEOUT`'
 */
export function formatOutcome(o: ClientOutcome): string {
  // vLLM's own error bodies carry the HTTP status as a number: the worker's answer, relayed.
  const worker = o.code !== undefined && /^\d+$/.test(o.code);
  const code = o.code === undefined ? '' : worker ? '' : ` \`${o.code}\``;
  switch (o.end) {
    case 'body':
      return worker
        ? `${o.status}, the worker's own error body (code ${o.code}), relayed`
        : `${o.status}${code}`;
    case 'done':
      return `${o.status}, SSE to \`[DONE]\``;
    case 'error-event':
      return worker
        ? `${o.status}, SSE ends with the worker's own error event (code ${o.code})`
        : `${o.status}, SSE ends with error event${code}`;
    case 'broken':
      return `${o.status}, then the connection is cut (body incomplete)`;
  }
}

/** The counters after a scenario, in a few words. */
export function formatCounters(c: Counters): string {
  return `${c.inFlight} in flight, ${c.routerInbound} inbound, upstream ${c.upstreamSockets}=${c.mockSockets}, mock load ${c.mockLoad}`;
}
