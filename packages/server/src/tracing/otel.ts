import type { IncomingHttpHeaders } from 'node:http';
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { LegSpanEnd, LegTrace, RequestTrace, RoutingSpan, TracingBackend } from './types.js';

/** The OTLP transport: vllm-router's `host:port` is gRPC; a URL is OTLP/HTTP in the protocol the environment names. */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';

export interface ExporterTarget {
  readonly protocol: OtlpProtocol;
  /** undefined: the exporter reads the standard OTEL_EXPORTER_OTLP_* endpoint variables itself. */
  readonly url: string | undefined;
}

const PROTOCOLS: readonly string[] = ['grpc', 'http/protobuf', 'http/json'];

/**
 * Where and how spans go. `host:port` means OTLP/gRPC (vllm-router's form); an `http(s)://` URL
 * means OTLP/HTTP, with `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (else `OTEL_EXPORTER_OTLP_PROTOCOL`)
 * choosing `http/protobuf` (the default) or `http/json`; a URL without a path gets the standard
 * `/v1/traces`. No endpoint: the exporter follows the OTEL_* variables alone.
 *
 * @example
 * exporterTarget('collector:4317', {}) // { protocol: 'grpc', url: 'http://collector:4317' }
 * exporterTarget('http://c:4318', {}) // { protocol: 'http/protobuf', url: 'http://c:4318/v1/traces' }
 */
export function exporterTarget(
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  warn: (message: string) => void = () => {},
): ExporterTarget {
  const named = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'])?.trim();
  let protocol: OtlpProtocol = 'http/protobuf';
  if (named !== undefined && named !== '') {
    if (PROTOCOLS.includes(named)) protocol = named as OtlpProtocol;
    else warn(`unknown OTLP protocol ${JSON.stringify(named)}: exporting traces as http/protobuf`);
  }
  if (endpoint === undefined) return { protocol, url: undefined };
  if (!/^https?:\/\//i.test(endpoint)) return { protocol: 'grpc', url: `http://${endpoint}` };
  if (protocol === 'grpc') return { protocol, url: endpoint };
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return { protocol, url: url.toString() };
}

/** Only the chosen exporter is imported: the gRPC one brings @grpc/grpc-js. */
async function createExporter(target: ExporterTarget): Promise<SpanExporter> {
  const config = target.url === undefined ? {} : { url: target.url };
  switch (target.protocol) {
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter(config);
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(config);
    default:
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(config);
  }
}

export interface OtelOptions {
  readonly endpoint: string | undefined;
  readonly samplingRatio: number;
  readonly excludedPaths: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  readonly warn: (message: string) => void;
}

/**
 * Spans waiting for export, at most: beyond it new spans are dropped (the batch processor's own
 * bound), so a collector that is down costs memory up to this and no more.
 */
const MAX_QUEUED_SPANS = 2_048;
/** close() waits this long for the last export, then goes on without it. */
const SHUTDOWN_WAIT_MS = 3_000;

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
/** Upstream headers are a flat [name, value, ...] list (upstream/headers.ts). */
const listSetter: TextMapSetter<string[]> = {
  set: (carrier, key, value) => {
    carrier.push(key, value);
  },
};

/** The OpenTelemetry SDK behind the router's TracingBackend: a batched, bounded exporter. */
export async function createOtelBackend(options: OtelOptions): Promise<TracingBackend> {
  const exporter = await createExporter(exporterTarget(options.endpoint, options.env, options.warn));
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'pd-router', 'service.version': options.version }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over our defaults.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplingRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: MAX_QUEUED_SPANS })],
  });
  const tracer = provider.getTracer('pd-router', options.version);
  const propagator = new W3CTraceContextPropagator();
  const excluded = new Set(options.excludedPaths);
  return {
    start(method, route, path, headers) {
      const bare = path.split('?', 1)[0] ?? path;
      if (excluded.has(bare)) return undefined;
      const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      const attributes: Attributes = { 'http.request.method': method, 'url.path': bare };
      if (route !== undefined) attributes['http.route'] = route;
      const span = tracer.startSpan(
        `${method} ${route ?? bare}`,
        { kind: SpanKind.SERVER, attributes },
        parent,
      );
      return new OtelRequestTrace(tracer, propagator, span);
    },
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        provider.shutdown().catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

class OtelRequestTrace implements RequestTrace {
  readonly #tracer: Tracer;
  readonly #propagator: W3CTraceContextPropagator;
  readonly #span: Span;
  readonly #context: Context;
  #attempt = 1;
  #ended = false;

  constructor(tracer: Tracer, propagator: W3CTraceContextPropagator, span: Span) {
    this.#tracer = tracer;
    this.#propagator = propagator;
    this.#span = span;
    this.#context = trace.setSpan(ROOT_CONTEXT, span);
  }

  routing(startedAt: number, choice: RoutingSpan): void {
    const attributes: Attributes = {
      'pd_router.attempt': this.#attempt,
      'pd_router.decode_only': choice.decodeOnly,
    };
    if (choice.prefill !== undefined) attributes['pd_router.prefill'] = choice.prefill;
    if (choice.decode !== undefined) attributes['pd_router.decode'] = choice.decode;
    if (choice.prefillReason !== undefined) attributes['pd_router.prefill_reason'] = choice.prefillReason;
    if (choice.decodeReason !== undefined) attributes['pd_router.decode_reason'] = choice.decodeReason;
    if (choice.empty !== undefined) attributes['pd_router.empty_pool'] = choice.empty;
    const span = this.#tracer.startSpan(
      'routing',
      { kind: SpanKind.INTERNAL, startTime: startedAt, attributes },
      this.#context,
    );
    if (choice.empty !== undefined)
      span.setStatus({ code: SpanStatusCode.ERROR, message: `no ${choice.empty} worker` });
    span.end();
  }

  leg(role: 'prefill' | 'decode', worker: string, requestId: string): LegTrace {
    const startedAt = performance.now();
    const span = this.#tracer.startSpan(
      role,
      {
        kind: SpanKind.CLIENT,
        startTime: startedAt,
        attributes: {
          'pd_router.role': role,
          'pd_router.worker': worker,
          'pd_router.request_id': requestId,
          'pd_router.attempt': this.#attempt,
        },
      },
      this.#context,
    );
    const headers: string[] = [];
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, listSetter);
    return {
      headers,
      end(result: LegSpanEnd) {
        span.setAttribute('pd_router.leg.end', result.end);
        if (result.status !== 0) span.setAttribute('http.response.status_code', result.status);
        if (result.code !== undefined) span.setAttribute('pd_router.error_code', result.code);
        if (result.ttfbMs >= 0) {
          span.setAttribute('pd_router.ttft_ms', result.ttfbMs);
          span.addEvent('first_token', { 'pd_router.ttft_ms': result.ttfbMs }, startedAt + result.ttfbMs);
        }
        if (result.end !== 'ok' || result.status >= 500)
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.code ?? result.end });
        span.end();
      },
    };
  }

  retry(leg: 'prefill' | 'decode', reason: string): void {
    this.#span.addEvent('retry', {
      'pd_router.leg': leg,
      'pd_router.retry_reason': reason,
      'pd_router.attempt': this.#attempt,
    });
    this.#attempt += 1;
  }

  end(status: number, outcome?: string, code?: string, requestId?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const span = this.#span;
    span.setAttribute('http.response.status_code', status);
    if (outcome !== undefined) span.setAttribute('pd_router.outcome', outcome);
    if (requestId !== undefined && requestId !== '') span.setAttribute('pd_router.request_id', requestId);
    if (code !== undefined) {
      span.setAttribute('error.type', code);
      span.setAttribute('pd_router.error_code', code);
    }
    if (status >= 500)
      span.setStatus({ code: SpanStatusCode.ERROR, ...(code === undefined ? {} : { message: code }) });
    if (this.#attempt > 1) span.setAttribute('pd_router.attempts', this.#attempt);
    span.end();
  }
}
