import type { IncomingHttpHeaders } from 'node:http';

/**
 * The tracing the request path sees. It imports nothing from OpenTelemetry: the SDK is loaded
 * (tracing/otel.ts, a dynamic import) only when `--enable-trace` is on, and with it off the router
 * holds no tracer at all, so the request path pays one `undefined` check per request.
 */
export interface TracingBackend {
  /** The server span of a request continuing the client's `traceparent`; undefined when its path is excluded. */
  start(
    method: string,
    route: string | undefined,
    path: string,
    headers: IncomingHttpHeaders,
  ): RequestTrace | undefined;
  /** Exports what is buffered (bounded in time: a collector that is down cannot hold the shutdown). */
  shutdown(): Promise<void>;
}

/** How a leg ended, for its span. */
export interface LegSpanEnd {
  readonly end: string;
  /** The upstream's status; 0 when none arrived. */
  readonly status: number;
  readonly code: string | undefined;
  /** From the request to the first body byte (ms), -1 when none: the span's `first_token` event. */
  readonly ttfbMs: number;
}

/** The span of one upstream call; `headers` (`traceparent`, `tracestate`) go out with it. */
export interface LegTrace {
  readonly headers: readonly string[];
  end(result: LegSpanEnd): void;
}

/** What the routing decision chose, for its span. */
export interface RoutingSpan {
  readonly prefill?: string | undefined;
  readonly decode?: string | undefined;
  /** The pool found empty (no span attribute for the pair then). */
  readonly empty?: string | undefined;
  readonly prefillReason?: string | undefined;
  readonly decodeReason?: string | undefined;
  readonly decodeOnly: boolean;
}

/** One request's server span and its children. */
export interface RequestTrace {
  /** The routing decision, a child span from `startedAt` (performance.now()) to now. */
  routing(startedAt: number, choice: RoutingSpan): void;
  /** A leg's child span, started now (the attempt it belongs to is counted by `retry`). */
  leg(role: 'prefill' | 'decode', worker: string, requestId: string): LegTrace;
  /** An attempt failed and another follows: an event on the server span. */
  retry(leg: 'prefill' | 'decode', reason: string): void;
  /** Ends the server span (once; later calls do nothing). */
  end(status: number, outcome?: string, code?: string, requestId?: string): void;
}
