import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import { DEFAULT_DECODE_FIRST_TOKENS, DEFAULT_INTAKE_CONFIG } from './config/schema.js';
import type { Config } from './config/types.js';
import { createConnector } from './connectors/index.js';
import { MooncakeEngines } from './connectors/mooncake.js';
import { createRandom16 } from './connectors/random16.js';
import type { KvConnector } from './connectors/types.js';
import { installDynamicWorkers } from './discovery/dynamic-workers.js';
import { ServerError } from './errors.js';
import { installClientRequestId, requestLogger } from './http/client-request-id.js';
import { installCors } from './http/cors.js';
import { createKeyValidator } from './http/key-validator.js';
import { ConnectionGuard, resolveMaxConnections } from './intake/connections.js';
import { createLogOutput } from './log-output.js';
import { RouterMetrics } from './metrics.js';
import { createPairSelector } from './policies/index.js';
import type { PairSelector } from './policies/types.js';
import { RetryMetrics } from './retry/retry-metrics.js';
import { completionsRoutes } from './routes/completions.js';
import { JSON_CONTENT_TYPE, type RouterContext, sendError } from './routes/context.js';
import { countResponses } from './routes/count.js';
import { installFallbacks } from './routes/fallback.js';
import { finishSessionRoutes } from './routes/finish-session.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelsRoutes } from './routes/models.js';
import { workersRoutes } from './routes/workers.js';
import { BatchedLogDestination } from './stream/log-destination.js';
import { loadTracing } from './tracing/index.js';
import { upstreamAuthorization } from './upstream/headers.js';
import { PoolSet, UPSTREAM_CONNECT_TIMEOUT_MS } from './upstream/pools.js';
import { VERSION } from './version.js';
import { WorkerRegistry } from './workers/registry.js';

export interface BuildServerDeps {
  /** A pino-compatible logger; default: Fastify's pino at `config.logLevel`. */
  readonly logger?: FastifyBaseLogger;
  /** 16 random bytes per call, for request ids; default: pooled crypto.randomFillSync. */
  readonly random16?: () => Uint8Array;
  /** Environment read for `OPENAI_API_KEY`; default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the configured policies (tests). */
  readonly selector?: PairSelector;
  /** Replaces the configured KV connector (tests: a NIXL connector whose loopback prefill looks remote). */
  readonly connector?: KvConnector;
  /** Mooncake bootstrap retry pacing (tests: short waits). */
  readonly mooncakeRetry?: { readonly retryInitialMs?: number; readonly retryMaxMs?: number };
}

/** Client tokens whose validation answer is remembered: bounded, so made-up tokens cannot grow it. */
const KEY_CACHE_ENTRIES = 10_000;

/**
 * Builds the router: a Fastify instance with the proxied completion routes, health, models,
 * workers and metrics endpoints. It never listens: the CLI (or a test, via `inject()` or
 * `listen({ port: 0 })`) does. With `prometheusPort` != 0, `/metrics` is served by a separate
 * listener that this instance starts in its onListen hook and stops in onClose.
 *
 * @example
 * const app = await buildServer(config);
 * await app.listen({ host: config.host, port: config.port });
 */
export async function buildServer(config: Config, deps: BuildServerDeps = {}): Promise<FastifyInstance> {
  const requestIdHeaders = (config.requestIdHeaders ?? []).map((name) => name.toLowerCase());
  // Mooncake: a prefill is routable once its bootstrap server has named its engine ids. The
  // callbacks run later, once `app` and `registry` below exist.
  const mooncake =
    config.kvConnector === 'mooncake'
      ? new MooncakeEngines({
          log: { warn: (obj, msg) => app.log.warn(obj, msg), info: (obj, msg) => app.log.info(obj, msg) },
          onReady: (id) => registry.setKvReady(id, true),
          ...(deps.mooncakeRetry ?? {}),
        })
      : undefined;
  const connector = deps.connector ?? createConnector(config, mooncake);
  const intake = config.intake ?? DEFAULT_INTAKE_CONFIG;
  const options: FastifyServerOptions = {
    keepAliveTimeout: intake.keepAliveTimeoutMs,
    // A backstop for bodies no route reads itself (the completion routes enforce --body-timeout-ms
    // and the minimum rate per body): Node answers 408 (answerClientError) once the head and
    // body have taken longer than both budgets; checked every CONNECTION_CHECK_INTERVAL_MS.
    requestTimeout: NODE_HEADERS_TIMEOUT_MS + intake.bodyTimeoutMs,
    // One log line per proxied request, written by the exchange; Fastify's two per request are noise.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: that one line carries its own request id.
    childLoggerFactory: requestLogger(requestIdHeaders),
    bodyLimit: config.maxPayloadSize,
    // Shutting down is answered by our own hook below, in the OpenAI error shape.
    return503OnClosing: false,
    // Requests Node's HTTP parser refuses (smuggling shapes, bad bytes, oversized heads) never reach
    // a route: answer them in the OpenAI error shape too, as Fastify's default handler does otherwise.
    clientErrorHandler: answerClientError,
    frameworkErrors(error, _request, rawReply) {
      const statusCode = error.statusCode ?? 400;
      sendError(
        rawReply as unknown as FastifyReply,
        new ServerError('PD_ERR_BAD_REQUEST', error.message, { statusCode }),
      );
    },
  };
  let logDestination: BatchedLogDestination | undefined;
  if (deps.logger !== undefined) options.loggerInstance = deps.logger;
  else {
    logDestination = new BatchedLogDestination(
      createLogOutput({ format: config.logFormat ?? 'json', dir: config.logDir }),
    );
    options.logger = { level: config.logLevel, stream: logDestination };
  }
  const app: FastifyInstance = Fastify(options);

  const env = deps.env ?? process.env;
  const authorization = upstreamAuthorization(config.upstreamApiKey, env);
  const userAgent = `pd-router/${VERSION}`;
  const selector: PairSelector =
    deps.selector ??
    createPairSelector({
      prefillPolicy: config.prefillPolicy,
      decodePolicy: config.decodePolicy,
      cacheAware: config.cacheAware,
      // Only a connector that can run a decode alone gets decode-first (P2P NCCL cannot).
      decodeFirstTokens:
        connector.decodeOnlyBody === undefined
          ? 0
          : (config.decodeFirstTokens ?? DEFAULT_DECODE_FIRST_TOKENS),
    });
  const metrics = new RouterMetrics({ prefill: config.prefillPolicy, decode: config.decodePolicy });
  const pools = new PoolSet({
    connections: config.upstreamConnections,
    headersTimeoutMs: Math.max(config.prefillTimeoutMs, config.decodeTtftTimeoutMs),
    bodyTimeoutMs: Math.max(config.prefillTimeoutMs, config.streamIdleTimeoutMs),
    connectTimeoutMs: Math.min(
      UPSTREAM_CONNECT_TIMEOUT_MS,
      config.prefillTimeoutMs,
      config.decodeTtftTimeoutMs,
    ),
  });
  const registry = new WorkerRegistry({
    pools,
    metrics,
    authorization,
    userAgent,
    headerOrder: connector.headerOrder,
  });
  metrics.setWorkerSource(registry);
  if (mooncake !== undefined) {
    for (const w of config.prefill)
      if (w.bootstrapPort !== undefined) mooncake.setPort(w.address.url, w.bootstrapPort);
    // Every source (static, ZMQ registration, Kubernetes, admin API) adds prefills through the registry.
    registry.onChange((event, worker) => {
      if (worker.role !== 'prefill') return;
      if (event === 'removed') mooncake.forget(worker.id);
      if (event !== 'added') return;
      registry.setKvReady(worker.id, false);
      mooncake.track(worker.id, worker.url, worker.address);
    });
  }
  addStaticWorkers(registry, config);

  const debug = config.logLevel === 'debug' || config.logLevel === 'trace';
  const validation = config.keyValidation;
  const tracing = await loadTracing(config, env, VERSION, (message) => app.log.warn(message));
  const ctx: RouterContext = {
    config,
    registry,
    selector,
    finishSession: (sessionId) => selector.finishSession?.(sessionId) ?? false,
    retryMetrics: new RetryMetrics(metrics.registry),
    connector,
    legs: {
      registry,
      debug,
      keepVllmResponseId: config.keepVllmResponseId === true,
      budgets: {
        collectMs: config.prefillTimeoutMs,
        firstByteMs: config.decodeTtftTimeoutMs,
        idleMs: config.streamIdleTimeoutMs,
        // A client that reads nothing gets as long as a silent worker does.
        stallMs: config.streamIdleTimeoutMs,
      },
    },
    mooncake,
    metrics,
    random16: deps.random16 ?? createRandom16(),
    authorization,
    userAgent,
    debug,
    keyValidator:
      validation !== undefined && validation.urls.length > 0
        ? createKeyValidator({ ...validation, maxEntries: KEY_CACHE_ENTRIES })
        : undefined,
    tracing,
    closing: false,
  };
  app.decorate('pd', ctx);

  countResponses(app, metrics);
  tracing?.install(app);
  installFallbacks(app);
  installCors(app, config.corsAllowedOrigins ?? []);
  installClientRequestId(app, requestIdHeaders);
  // Before any route: a request that arrives on a kept-alive connection after close() began, or
  // on a connection refused beyond --max-connections (its 503 is already written).
  const guard = new ConnectionGuard(resolveMaxConnections(intake.maxConnections));
  app.addHook('onRequest', (request, reply, done) => {
    if (!ctx.closing) {
      if (guard.isRefused(request.raw.socket)) {
        reply.hijack();
        request.raw.socket.destroy();
        return;
      }
      done();
      return;
    }
    reply.header('connection', 'close');
    sendError(reply, new ServerError('PD_ERR_SHUTTING_DOWN', 'the router is shutting down'));
  });
  await app.register(completionsRoutes);
  await app.register(modelsRoutes);
  await app.register(healthRoutes);
  await app.register(workersRoutes);
  await app.register(finishSessionRoutes);
  if (config.prometheusPort === 0) await app.register(metricsRoutes);
  else installMetricsListener(app, ctx);
  // Discovery sources, health checks, circuit breaker and the admin API (docs/dynamic-workers.md).
  await installDynamicWorkers(app, deps);

  // Client connections are counted (and refused beyond --max-connections, keeping file
  // descriptors for the router's own upstream, health and discovery sockets). Connections that
  // have not sent a byte yet: no request to finish, and Node's closeIdleConnections() does not
  // count them as idle, so they would hold close() until the headers timeout. Tracked per
  // connection (not per request), with no 'data' listener, which would take the socket off
  // Node's native HTTP parser; dropped when closing.
  guard.install(app.server);
  app.addHook('preClose', async () => {
    ctx.closing = true;
    for (const socket of guard.open) if (socket.bytesRead === 0) socket.destroy();
  });
  app.addHook('onClose', async () => {
    mooncake?.close();
    await pools.close();
    logDestination?.close();
  });
  return app;
}

/**
 * The configured workers; with `--intra-node-data-parallel-size N` > 1 each instance is N workers,
 * ranks 0..N-1, each leg of which carries `X-data-parallel-rank` (vllm-router's DP-aware routing).
 */
function addStaticWorkers(registry: WorkerRegistry, config: Config): void {
  const size = config.intraNodeDataParallelSize ?? 1;
  for (const role of ['prefill', 'decode'] as const) {
    for (const w of config[role]) {
      if (size <= 1) registry.add({ role, spec: w.spec, address: w.address });
      else
        for (let rank = 0; rank < size; rank++)
          registry.add({ role, spec: w.spec, address: w.address, dpRank: rank });
    }
  }
}

/** Node's default headersTimeout, which the requestTimeout backstop must exceed. */
const NODE_HEADERS_TIMEOUT_MS = 60_000;

/** Statuses of parser-level refusals, as Fastify's default client-error handler picks them. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request head is too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

/**
 * Fastify's `clientErrorHandler`: a request the HTTP parser refused gets 400 (or 431/408) with an
 * OpenAI-shaped `PD_ERR_BAD_REQUEST` body, then the connection is closed (the parser's state is
 * lost, so nothing after it on that connection can be trusted).
 */
function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'Bad Request',
    `malformed HTTP request${error.code === undefined ? '' : ` (${error.code})`}`,
  ];
  this.log.debug({ err: error }, 'client error');
  if (socket.writable) {
    const body = new ServerError('PD_ERR_BAD_REQUEST', message, { statusCode: status }).body();
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${JSON_CONTENT_TYPE}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The separate `/metrics` listener on `prometheusPort`, bound when the main server listens. */
function installMetricsListener(app: FastifyInstance, ctx: RouterContext): void {
  let server: Server | undefined;
  app.addHook('onListen', async () => {
    const registry = ctx.metrics.registry;
    const s = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': JSON_CONTENT_TYPE });
        res.end(new ServerError('PD_ERR_NOT_FOUND', 'only GET /metrics is served here').body());
        return;
      }
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => {
          res.writeHead(500).end();
        },
      );
    });
    server = s;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(ctx.config.prometheusPort, ctx.config.prometheusHost, () => {
        s.off('error', reject);
        resolve();
      });
    }).catch((error: unknown) => {
      // onListen cannot fail the main listen(); say it loudly instead.
      app.log.error({ err: error }, `metrics listener on port ${ctx.config.prometheusPort} failed`);
    });
  });
  app.addHook('onClose', async () => {
    const s = server;
    if (s === undefined || !s.listening) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });
}
