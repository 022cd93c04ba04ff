import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdminRoute } from './admin-routes.js';
import { handleCompletion } from './completion-handler.js';
import type { CompletionRoute } from './completion-request.js';
import { type CheckContext, createConformanceChecker, type Verdict } from './conformance/index.js';
import { vllmErrorBody } from './error-body.js';
import { MockVllmError } from './errors.js';
import { FaultBook } from './fault-book.js';
import { type FaultSpec, toFaultSpecs } from './fault-spec.js';
import { readBody, sendJson, sleep, untilAborted } from './http-io.js';
import { handleInfoRoute, waitingCount } from './info-routes.js';
import { KvInbox } from './kv-inbox.js';
import { KvTransport } from './kv-transport.js';
import { MockMetrics } from './metrics.js';
import type { MockContext } from './mock-context.js';
import { type MooncakeState, startMooncake, stopMooncake } from './mooncake-connector.js';
import { type NixlState, startNixl, stopNixl } from './nixl-connector.js';
import { type KvConnector, type MockRole, type MockVllmOptions, resolveOptions } from './options.js';
import { PerfEngine } from './perf/engine.js';
import type { ReceivedRequest } from './received-request.js';
import { startRegistration } from './registration.js';
import { SlotScheduler } from './slot-scheduler.js';

/** KV notices kept for decode requests that have not arrived yet. */
const KV_PENDING_MAX = 10_000;
const KV_PENDING_TTL_MS = 60_000;

const GET_ROUTES = new Set(['/health', '/ping', '/version', '/load', '/metrics', '/v1/models']);
const COMPLETION_ROUTES: Readonly<Record<string, CompletionRoute>> = {
  '/v1/completions': 'completions',
  '/v1/chat/completions': 'chat',
};

/** A running mock vLLM instance. */
export interface MockVllm {
  readonly role: MockRole;
  /** "http://host:port", no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** "host:port" of the KV (ZMQ) socket: what a router writes into the request id. */
  readonly kvAddress: string;
  readonly kvPort: number;
  /** The router's worker flag form: "http://host:port:zmq://host:kvport". */
  readonly workerSpec: string;
  readonly model: string;
  /** The KV connector emulated ('p2p-nccl' or 'nixl'). */
  readonly kvConnector: KvConnector;
  /** NIXL: this instance's engine id (the `remote_engine_id` its prefill answers carry); Mooncake: rank 0's. */
  readonly engineId: string;
  /** Mooncake: the engine id of each DP rank, as its bootstrap server's `/query` answers them. */
  readonly engineIds: readonly string[];
  /** Mooncake prefill: the port of its bootstrap server (undefined otherwise). */
  readonly bootstrapPort: number | undefined;
  /** Completion requests received, oldest first (live array; bounded by `maxReceived`). */
  readonly received: ReceivedRequest[];
  /** Conformance verdicts, one per completion request, when `fixtures` is set (live array). */
  readonly verdicts: Verdict[];
  /** The faults still active. */
  readonly faults: readonly FaultSpec[];
  /** Completion requests in flight (GET /load's server_load). */
  readonly load: number;
  /** Requests generating / waiting (queue and KV wait), as in /metrics. */
  readonly running: number;
  readonly waiting: number;
  /** Replaces the active faults ([] clears them); resolves once the listener state follows (`refuse`). */
  setFaults(faults: FaultSpec | readonly FaultSpec[]): Promise<void>;
  /** Clears received requests, verdicts, faults, metrics and pending KV notices. */
  reset(): Promise<void>;
  /** Stops everything: open requests are cut, sockets closed, registration stopped. */
  close(): Promise<void>;
}

/** Extra options of the factory that are not plain configuration. */
export interface MockVllmExtras {
  /** Passed to every conformance check (the worker's Host header is filled in already). */
  readonly conformanceContext?: CheckContext;
}

/**
 * Starts a mock vLLM instance: an HTTP server with vLLM's OpenAI routes and a ZMQ KV socket.
 *
 * @example
 * const decode = await createMockVllm({ role: 'decode', kvWaitTimeoutMs: 2_000 });
 * const prefill = await createMockVllm({ role: 'prefill' });
 * // router: --prefill ${prefill.workerSpec} --decode ${decode.workerSpec}
 * await Promise.all([prefill.close(), decode.close()]);
 */
export async function createMockVllm(options: MockVllmOptions & MockVllmExtras = {}): Promise<MockVllm> {
  const o = resolveOptions(options);
  const checker = o.fixtures === undefined ? undefined : createConformanceChecker(o.fixtures);
  const metrics = new MockMetrics();
  const faultBook = new FaultBook();
  const inbox = new KvInbox({ maxPending: KV_PENDING_MAX, pendingTtlMs: KV_PENDING_TTL_MS });
  // The KV port carries one connector: P2P NCCL's PULL socket, or NIXL's or Mooncake's side-channel ROUTER.
  let kv: KvTransport | undefined;
  let nixl: NixlState | undefined;
  let mooncake: MooncakeState | undefined;
  if (o.kvConnector === 'nixl') nixl = await startNixl(o, metrics, faultBook);
  else if (o.kvConnector === 'mooncake') mooncake = await startMooncake(o, metrics, faultBook);
  else {
    kv = await KvTransport.bind(o.host, o.kvPort, (notice) => {
      metrics.kvReceived += 1;
      inbox.deliver(notice.requestId);
    });
  }
  const kvPort = nixl?.channel.port ?? mooncake?.channel.port ?? kv?.port ?? 0;
  const closeKv = async (): Promise<void> => {
    await kv?.close();
    if (nixl !== undefined) await stopNixl(nixl);
    if (mooncake !== undefined) await stopMooncake(mooncake);
  };
  const ctx: MockContext = {
    options: o,
    kv,
    nixl,
    mooncake,
    inbox,
    scheduler: new SlotScheduler(o.timing.maxConcurrency, o.timing.maxQueue),
    perf:
      o.perf === undefined
        ? undefined
        : new PerfEngine(o.perf.profile, o.perf.timeScale, o.perf.kvCacheTokens),
    metrics,
    faults: faultBook,
    received: [],
    verdicts: [],
    checker,
    conformanceContext: options.conformanceContext ?? {},
    closing: new AbortController(),
    hostHeader: '',
    inflight: 0,
  };

  // requestTimeout 0: Node's 300 s default would end the "hang" fault and long KV waits by itself.
  const server = createServer({ requestTimeout: 0 });
  server.on('connection', (socket) => {
    if (ctx.faults.takeConnectionReset()) socket.resetAndDestroy();
  });

  let port = o.port;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(port, o.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await listen();
  } catch (cause) {
    await closeKv();
    throw new MockVllmError('PD_ERR_MOCK_LISTEN_FAILED', `cannot listen on ${o.host}:${o.port}`, { cause });
  }
  port = (server.address() as AddressInfo).port;
  ctx.hostHeader = `${o.advertiseHost}:${port}`;
  const url = `http://${ctx.hostHeader}`;
  const kvAddress = `${o.advertiseHost}:${kvPort}`;

  let listening = true;
  let closed = false;
  let refusalTimer: NodeJS.Timeout | undefined;
  /** Closes or reopens the listener to follow a `refuse` (mode close) fault. */
  const followListenerFaults = async (): Promise<void> => {
    const refusal = ctx.faults.listenerRefusal();
    if (refusal !== undefined && listening) {
      listening = false;
      server.close();
      server.closeIdleConnections();
      if (refusal.durationMs !== undefined) {
        refusalTimer = setTimeout(() => {
          ctx.faults.remove(refusal);
          void followListenerFaults();
        }, refusal.durationMs);
      }
    } else if (refusal === undefined && !listening && !closed) {
      clearTimeout(refusalTimer);
      listening = true;
      await listen().catch(() => {
        listening = false;
      });
    }
  };
  const setFaults = async (faults: FaultSpec | readonly FaultSpec[] | unknown): Promise<void> => {
    ctx.faults.set(toFaultSpecs(faults));
    await followListenerFaults();
  };
  const reset = async (): Promise<void> => {
    ctx.received.length = 0;
    ctx.verdicts.length = 0;
    metrics.reset();
    inbox.clear();
    nixl?.blocks.clear();
    mooncake?.sends.clear();
    mooncake?.agents.clear();
    await setFaults([]);
  };

  const registration =
    o.proxyAddress === undefined || o.role === 'both'
      ? undefined
      : startRegistration({
          proxyAddress: o.proxyAddress,
          intervalMs: o.registerIntervalMs,
          message: {
            type: o.role === 'prefill' ? 'P' : 'D',
            http_address: ctx.hostHeader,
            zmq_address: kvAddress,
          },
        });

  const adminHooks = {
    url,
    kvAddress,
    setFaults: (value: unknown) => {
      ctx.faults.set(toFaultSpecs(value));
      void followListenerFaults();
    },
    reset: () => void reset(),
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(ctx, adminHooks, req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, vllmErrorBody(500, 'Internal server error'));
      else res.destroy();
    });
  });

  await setFaults(o.faults);

  return {
    role: o.role,
    url,
    port,
    kvAddress,
    kvPort,
    workerSpec: `${url}:zmq://${kvAddress}`,
    model: o.model,
    kvConnector: o.kvConnector,
    engineId: o.nixlEngineId,
    engineIds: o.mooncakeEngineIds,
    bootstrapPort: mooncake?.bootstrap?.port,
    received: ctx.received,
    verdicts: ctx.verdicts,
    get faults() {
      return ctx.faults.list();
    },
    get load() {
      return ctx.inflight;
    },
    get running() {
      return ctx.perf?.running ?? ctx.scheduler.running;
    },
    get waiting() {
      return waitingCount(ctx);
    },
    setFaults,
    reset,
    close: async () => {
      if (closed) return;
      closed = true;
      clearTimeout(refusalTimer);
      ctx.closing.abort();
      ctx.perf?.close();
      await registration?.stop();
      const done = listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
      server.closeAllConnections();
      await done;
      await closeKv();
    },
  };
}

async function handleRequest(
  ctx: MockContext,
  hooks: Parameters<typeof handleAdminRoute>[1],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // One controller per request, aborted only when the answer did not finish (creating the abort
  // reason is costly: it is skipped on the common path). close() cuts every socket, which lands here too.
  const ac = new AbortController();
  const signal = ac.signal;
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  if (ctx.closing.signal.aborted) ac.abort();
  const o = ctx.options;
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const body = await readBody(req, o.maxBodyBytes);

  if (path.startsWith('/_mock/')) {
    handleAdminRoute(ctx, hooks, method, path, body ?? Buffer.alloc(0), res);
    return;
  }
  const route = method === 'POST' ? COMPLETION_ROUTES[path] : undefined;
  const faults = ctx.faults.takeForRequest(route !== undefined);
  const entry = route === undefined ? undefined : record(ctx, req, target, body ?? Buffer.alloc(0), res);
  if (body === undefined) {
    sendJson(res, 413, vllmErrorBody(413, `Request body larger than ${o.maxBodyBytes} bytes`));
    return;
  }
  if (faults.hang === true) {
    await untilAborted(signal);
    return;
  }
  if (faults.slowHeadersMs !== undefined && !(await sleep(faults.slowHeadersMs, signal))) return;
  if (faults.status !== undefined) {
    ctx.metrics.requestErrors += 1;
    const message = faults.status.message ?? `mock fault: status ${faults.status.status}`;
    sendJson(res, faults.status.status, vllmErrorBody(faults.status.status, message));
    return;
  }
  if (
    o.apiKey !== undefined &&
    path.startsWith('/v1') &&
    req.headers.authorization !== `Bearer ${o.apiKey}`
  ) {
    sendJson(res, 401, { error: 'Unauthorized' });
    return;
  }
  if (route !== undefined && entry !== undefined) {
    await handleCompletion(ctx, route, req, body, res, faults, signal, entry);
    return;
  }
  if (method === 'GET' && handleInfoRoute(ctx, path, res)) return;
  const known = GET_ROUTES.has(path) || COMPLETION_ROUTES[path] !== undefined;
  sendJson(res, known ? 405 : 404, { detail: known ? 'Method Not Allowed' : 'Not Found' });
}

/** Keeps the request (bounded), follows its outcome, and checks it against the golden fixtures; returns its entry. */
function record(
  ctx: MockContext,
  req: IncomingMessage,
  target: string,
  body: Buffer,
  res: ServerResponse,
): ReceivedRequest {
  const o = ctx.options;
  const id = req.headers['x-request-id'];
  const entry: ReceivedRequest = {
    method: req.method ?? 'POST',
    path: target,
    rawHeaders: req.rawHeaders,
    headers: req.headers,
    body,
    requestId: Array.isArray(id) ? id[0] : id,
    role: o.role,
    receivedAt: Date.now(),
  };
  res.on('close', () => {
    entry.completedAt = Date.now();
    if (res.headersSent) entry.status = res.statusCode;
    entry.outcome = res.writableFinished ? 'completed' : 'aborted';
  });
  ctx.received.push(entry);
  if (ctx.received.length > o.maxReceived) ctx.received.shift();
  if (ctx.checker !== undefined && o.role !== 'both') {
    const raw = { method: entry.method, path: target, rawHeaders: req.rawHeaders, body };
    ctx.verdicts.push(
      ctx.checker.check(o.role, raw, { workerHostHeader: ctx.hostHeader, ...ctx.conformanceContext }),
    );
    if (ctx.verdicts.length > o.maxReceived) ctx.verdicts.shift();
  }
  return entry;
}
