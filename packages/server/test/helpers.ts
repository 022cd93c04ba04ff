import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWorkerUrl } from '@pd-router/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { type Dispatcher, request } from 'undici';
import { afterEach } from 'vitest';
import { type BuildServerDeps, buildServer } from '../src/app.js';
import type { Config, WorkerConfig } from '../src/config/types.js';
import { RouterMetrics } from '../src/metrics.js';
import { PoolSet } from '../src/upstream/pools.js';
import { WorkerRegistry } from '../src/workers/registry.js';

/** Turns a worker spec into a WorkerConfig the way loadConfig would (throws on a bad spec). */
export function worker(spec: string): WorkerConfig {
  const parsed = parseWorkerUrl(spec);
  if (!parsed.ok) throw parsed.error;
  return { spec, address: parsed.value };
}

/** A worker registry with the router's metrics over its own pools (closed by the caller). */
export function testRegistry(connections = 1): {
  registry: WorkerRegistry;
  pools: PoolSet;
  metrics: RouterMetrics;
} {
  const pools = new PoolSet({
    connections,
    headersTimeoutMs: 1_000,
    bodyTimeoutMs: 1_000,
    connectTimeoutMs: 1_000,
  });
  const metrics = new RouterMetrics({ prefill: 'round_robin', decode: 'round_robin' });
  const registry = new WorkerRegistry({
    pools,
    metrics,
    authorization: 'Bearer None',
    userAgent: 'pd-router/test',
  });
  return { registry, pools, metrics };
}

export type TestConfigOverrides = Partial<Omit<Config, 'prefill' | 'decode'>> & {
  readonly prefill?: readonly (string | WorkerConfig)[];
  readonly decode?: readonly (string | WorkerConfig)[];
};

/** A complete Config with test-friendly defaults; workers may be given as spec strings. */
export function testConfig(overrides: TestConfigOverrides = {}): Config {
  const { prefill = [], decode = [], ...rest } = overrides;
  return {
    host: '127.0.0.1',
    port: 0,
    policy: 'round_robin',
    prefillPolicy: 'round_robin',
    decodePolicy: 'round_robin',
    // vllm-router's CLI defaults, as loadConfig sets them.
    cacheAware: {
      cacheThreshold: 0.3,
      balanceAbsThreshold: 64,
      balanceRelThreshold: 1.5,
      maxTreeSize: 2 ** 24,
    },
    decodeFirstTokens: 512,
    kvConnector: 'p2p-nccl',
    maxPayloadSize: 1_048_576,
    prefillTimeoutMs: 10_000,
    decodeTtftTimeoutMs: 10_000,
    streamIdleTimeoutMs: 10_000,
    upstreamApiKey: undefined,
    apiKeys: [],
    adminApiKey: undefined,
    logLevel: 'silent',
    prometheusPort: 0,
    prometheusHost: '127.0.0.1',
    upstreamConnections: 16,
    shutdownTimeoutMs: 5_000,
    ...rest,
    prefill: prefill.map((w) => (typeof w === 'string' ? worker(w) : w)),
    decode: decode.map((w) => (typeof w === 'string' ? worker(w) : w)),
  };
}

export interface LogEntry {
  readonly level: string;
  readonly msg: string | undefined;
  readonly fields: Record<string, unknown>;
}

/** A pino-compatible logger that keeps every entry (with its bindings) in `entries`. */
export class CaptureLogger {
  readonly entries: LogEntry[];
  readonly #bindings: Record<string, unknown>;
  level = 'trace';

  constructor(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}) {
    this.entries = entries;
    this.#bindings = bindings;
  }

  #log(level: string, a: unknown, b?: unknown): void {
    let fields: Record<string, unknown> = { ...this.#bindings };
    let msg: string | undefined;
    if (typeof a === 'string') msg = a;
    else if (typeof a === 'object' && a !== null) {
      fields = { ...fields, ...(a as Record<string, unknown>) };
      msg = typeof b === 'string' ? b : undefined;
    }
    this.entries.push({ level, msg, fields });
  }

  fatal = (a: unknown, b?: unknown): void => this.#log('fatal', a, b);
  error = (a: unknown, b?: unknown): void => this.#log('error', a, b);
  warn = (a: unknown, b?: unknown): void => this.#log('warn', a, b);
  info = (a: unknown, b?: unknown): void => this.#log('info', a, b);
  debug = (a: unknown, b?: unknown): void => this.#log('debug', a, b);
  trace = (a: unknown, b?: unknown): void => this.#log('trace', a, b);
  silent = (): void => {};
  child = (bindings: Record<string, unknown>): CaptureLogger =>
    new CaptureLogger(this.entries, { ...this.#bindings, ...bindings });
  isLevelEnabled = (): boolean => true;

  /** The per-request lines the exchange writes. */
  proxied(): LogEntry[] {
    return this.entries.filter((e) => e.msg === 'proxied request' || e.msg === 'proxied request failed');
  }
}

export function asLogger(logger: CaptureLogger): FastifyBaseLogger {
  return logger as unknown as FastifyBaseLogger;
}

export interface Router {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/** buildServer + listen on 127.0.0.1:0. */
export async function startRouter(config: Config, deps: BuildServerDeps = {}): Promise<Router> {
  const app = await buildServer(config, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** POST /v1/completions to a router with a JSON body (the seed completion unless given). */
export function postCompletion(
  router: Router,
  body: string = SEED_COMPLETIONS_BODY,
): Promise<Dispatcher.ResponseData> {
  return request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/** postCompletion's status, its body read (or its failure ignored: some tests break it off). */
export async function postStatus(router: Router, body: string = SEED_COMPLETIONS_BODY): Promise<number> {
  const res = await postCompletion(router, body);
  await res.body.text().catch(() => '');
  return res.statusCode;
}

export interface FakeRequest {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: readonly string[];
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
  readonly at: number;
}

export type FakeHandler = (req: FakeRequest, res: ServerResponse, raw: IncomingMessage) => unknown;

export interface FakeWorker {
  readonly url: string;
  readonly hostHeader: string;
  readonly received: FakeRequest[];
  /** Requests whose client side went away before the answer finished. */
  readonly aborted: FakeRequest[];
  handler: FakeHandler;
  /** A worker spec with the given ZMQ address. */
  spec(zmq?: string): string;
  close(): Promise<void>;
}

/** A raw node:http upstream on 127.0.0.1:0 that records every request (body fully read first). */
export async function startFakeWorker(handler: FakeHandler = jsonAnswer({ ok: true })): Promise<FakeWorker> {
  const received: FakeRequest[] = [];
  const aborted: FakeRequest[] = [];
  const server: Server = createServer({ requestTimeout: 0 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const record: FakeRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: performance.now(),
      };
      received.push(record);
      res.on('close', () => {
        if (!res.writableFinished) aborted.push(record);
      });
      void fake.handler(record, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeWorker = {
    url: `http://127.0.0.1:${port}`,
    hostHeader: `127.0.0.1:${port}`,
    received,
    aborted,
    handler,
    spec: (zmq = `127.0.0.1:${port + 1}`) => `http://127.0.0.1:${port}:zmq://${zmq}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}

export interface FakePair {
  readonly p: FakeWorker;
  readonly d: FakeWorker;
  readonly router: Router;
}

export interface FakePairOptions {
  /** The prefill's handler: `{"prefill": true}` unless given. */
  readonly prefill?: FakeHandler;
  /** The decode's handler: `{"decode": true}` unless given (a test may also set `d.handler` later). */
  readonly decode?: FakeHandler;
  /** The ZMQ addresses of the worker specs (default: each worker's port + 1). */
  readonly prefillZmq?: string;
  readonly decodeZmq?: string;
  readonly deps?: BuildServerDeps;
}

export interface E2eKit {
  /** What the kit started, and anything else a test pushes here: closed after each test, newest first. */
  readonly open: { close(): Promise<void> }[];
  /** A fake worker (startFakeWorker). */
  worker(handler?: FakeHandler): Promise<FakeWorker>;
  /** A router on 127.0.0.1:0 with testConfig(config). */
  router(config: TestConfigOverrides, deps?: BuildServerDeps): Promise<Router>;
  /** The end-to-end setup of most server tests: a fake prefill and a fake decode behind a router. */
  pair(config?: TestConfigOverrides, options?: FakePairOptions): Promise<FakePair>;
}

/**
 * The server tests' end-to-end kit: call once at the top of a test file; every worker and router it
 * starts is closed after each test (registered as soon as it exists, so a failing test leaks nothing).
 */
export function e2eKit(): E2eKit {
  const open = closeAfterEach();
  const kit: E2eKit = {
    open,
    async worker(handler) {
      const worker = await startFakeWorker(handler);
      open.push(worker);
      return worker;
    },
    async router(config, deps) {
      const router = await startRouter(testConfig(config), deps);
      open.push(router);
      return router;
    },
    async pair(config = {}, options = {}) {
      const p = await kit.worker(options.prefill ?? jsonAnswer({ prefill: true }));
      const d = await kit.worker(options.decode ?? jsonAnswer({ decode: true }));
      const router = await kit.router(
        { prefill: [p.spec(options.prefillZmq)], decode: [d.spec(options.decodeZmq)], ...config },
        options.deps,
      );
      return { p, d, router };
    },
  };
  return kit;
}

/** A handler answering JSON with the given status. */
export function jsonAnswer(body: unknown, status = 200): FakeHandler {
  const text = JSON.stringify(body);
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

/** A handler streaming the given SSE data lines, `gapMs` apart, then [DONE]. */
export function sseAnswer(events: readonly string[], gapMs = 0): FakeHandler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) {
      res.write(`data: ${e}\n\n`);
      if (gapMs > 0) await sleep(gapMs);
    }
    res.end('data: [DONE]\n\n');
  };
}

const SSE_HEAD: OutgoingHttpHeaders = { 'content-type': 'text/event-stream' };

/** A handler that starts an answer (`head`, then `body`) and breaks the connection off 50 ms later. */
export function breaksOff(body: string, head: OutgoingHttpHeaders = SSE_HEAD): FakeHandler {
  return (_req, res) => {
    res.writeHead(200, head);
    res.write(body);
    setTimeout(() => res.socket?.destroy(), 50);
  };
}

/** A handler that starts an answer (`head`, then `body`) and then sends nothing more. */
export function goesSilent(body: string, head: OutgoingHttpHeaders = SSE_HEAD): FakeHandler {
  return (_req, res) => {
    res.writeHead(200, head);
    res.write(body);
  };
}

/** A handler that streams `first`, waits for `held` to open, then sends `rest` and ends. */
export function heldStream(
  first: string,
  held: { readonly opened: Promise<void> },
  rest: string,
): FakeHandler {
  return async (_req, res) => {
    res.writeHead(200, SSE_HEAD);
    res.write(first);
    await held.opened;
    res.end(rest);
  };
}

/**
 * Things a test opened (routers, servers, mocks), closed after each test, newest first: register
 * with `open.push(x)` as soon as `x` exists.
 */
export function closeAfterEach(): { close(): Promise<void> }[] {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(
      open
        .splice(0)
        .reverse()
        .map((o) => o.close()),
    );
  });
  return open;
}

/** A promise the test resolves when it chooses: `await gate.opened` in a handler, `gate.open()` in the test. */
export function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A worker address nobody listens on, for "connection refused": port 1 is privileged and never handed
 * out by listen(0), unlike the port of a server a test has just closed (another process may take it).
 */
export const REFUSED_URL = 'http://127.0.0.1:1';
export const REFUSED_SPEC = `${REFUSED_URL}:zmq://127.0.0.1:2`;

/** The header names every upstream request carries besides `connection` (as a set: undici places some). */
export const UPSTREAM_HEADER_NAMES: readonly string[] = [
  'host',
  'authorization',
  'x-request-id',
  'accept',
  'accept-encoding',
  'user-agent',
  'content-length',
  'content-type',
];

/** 16 fixed bytes, so request ids are predictable. */
export function fixedRandom16(byte = 0xab): () => Uint8Array {
  const bytes = new Uint8Array(16).fill(byte);
  return () => bytes;
}

export const SEED_COMPLETIONS_BODY =
  '{"model": "mock-model", "prompt": "San Francisco is a", "max_tokens": 50, "temperature": 0}';
