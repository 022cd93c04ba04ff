import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';
import { countedStatus } from '../routes/count.js';
import type { RequestTrace, TracingBackend } from './types.js';

export type { LegTrace, RequestTrace } from './types.js';

/**
 * Tracing as the router holds it when `--enable-trace` is on: every request (but the excluded
 * paths) gets a server span in a hook; a completion's exchange claims its span and ends it with
 * its outcome, any other request's span ends when its response closes.
 */
export class RouterTracing {
  readonly #backend: TracingBackend;
  /** Spans not claimed by an exchange yet, by request. */
  readonly #open = new WeakMap<IncomingMessage, RequestTrace>();

  constructor(backend: TracingBackend) {
    this.#backend = backend;
  }

  /** The request's span, for the exchange to enrich and end; the close hook no longer ends it. */
  claim(raw: IncomingMessage): RequestTrace | undefined {
    const trace = this.#open.get(raw);
    if (trace !== undefined) this.#open.delete(raw);
    return trace;
  }

  install(app: FastifyInstance): void {
    const open = this.#open;
    const backend = this.#backend;
    app.addHook('onRequest', (request, reply, done) => {
      const raw = request.raw;
      const trace = backend.start(request.method, request.routeOptions.url, request.url, request.headers);
      if (trace !== undefined) {
        open.set(raw, trace);
        const res: ServerResponse = reply.raw;
        res.on('close', () => {
          if (open.get(raw) !== trace) return;
          open.delete(raw);
          trace.end(countedStatus(res));
        });
      }
      done();
    });
    app.addHook('onClose', () => backend.shutdown());
  }
}

/**
 * The router's tracing: undefined (nothing loaded) unless `--enable-trace`; else the OpenTelemetry
 * SDK and the one exporter the endpoint calls for are imported now.
 */
export async function loadTracing(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  warn: (message: string) => void,
): Promise<RouterTracing | undefined> {
  const tracing = config.tracing;
  if (tracing?.enabled !== true) return undefined;
  const { createOtelBackend } = await import('./otel.js');
  const backend = await createOtelBackend({
    endpoint: tracing.otlpTracesEndpoint,
    samplingRatio: tracing.samplingRatio,
    excludedPaths: tracing.excludedPaths ?? [],
    env,
    version,
    warn,
  });
  return new RouterTracing(backend);
}
