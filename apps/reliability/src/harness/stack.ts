import type { AddressInfo } from 'node:net';
import {
  createDecodeServer,
  createPrefillServer,
  type MockVllm,
  type MockVllmOptions,
} from '@pd-router/mock-vllm';
import { buildServer, resolveConfig } from '@pd-router/server';
import { request } from 'undici';
import { CaptureLogger } from './capture-logger.js';
import { pairsMatch, type SocketCensus, socketCensus, total } from './socket-census.js';

export type Router = Awaited<ReturnType<typeof buildServer>>;

/**
 * Settings every in-process stack starts from: leg budgets far above the event-loop stalls of a
 * loaded machine (a scenario that exercises a budget sets its own, short one, as the fault runs
 * do), no active health checks and no circuit breaker (a fault scenario must not change the next
 * one's pools), no retries (a fault scenario shows how one failure is answered; retries have their
 * own tests), silent upstream key from the environment.
 */
export const BASE_ROUTER_SETTINGS = {
  host: '127.0.0.1',
  port: 0,
  logLevel: 'info',
  prefillTimeoutMs: 10_000,
  decodeTtftTimeoutMs: 10_000,
  streamIdleTimeoutMs: 10_000,
  health: { checkIntervalMs: 0, circuitFailureThreshold: 0 },
  retry: { disabled: true },
} as const;

export interface StackOptions {
  readonly prefill?: number;
  readonly decode?: number;
  readonly prefillMock?: Omit<MockVllmOptions, 'role'>;
  readonly decodeMock?: Omit<MockVllmOptions, 'role'>;
  /** Router settings in the config-file shape (`resolveConfig`), over BASE_ROUTER_SETTINGS. */
  readonly router?: Readonly<Record<string, unknown>>;
  /** The router's environment (OPENAI_API_KEY); default empty. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface WorkerState {
  readonly id: string;
  readonly role: string;
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
}

/** What is still open or counted once a scenario is over. */
export interface Counters {
  /** Sum of /workers inFlight. */
  readonly inFlight: number;
  readonly routerInbound: number;
  /** Router→mock sockets (idle keep-alive ones included) and their mock-side peers. */
  readonly upstreamSockets: number;
  readonly mockSockets: number;
  /** Completion requests the mocks still have in flight. */
  readonly mockLoad: number;
}

export interface Stack {
  readonly router: Router;
  readonly url: string;
  readonly port: number;
  readonly prefills: readonly MockVllm[];
  readonly decodes: readonly MockVllm[];
  readonly log: CaptureLogger;
  readonly apiKey: string | undefined;
  workers(): Promise<WorkerState[]>;
  census(): SocketCensus;
  /** The bound `host:port` of the router's ZMQ registration ROUTER (`discovery.address` with port 0). */
  discoveryAddress(): string;
  /** Waits (up to `timeoutMs`) until nothing is in flight and no socket is half-open; returns the counters. */
  settle(timeoutMs?: number): Promise<Counters>;
  /** Clears every mock's faults and received list. */
  resetMocks(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Real mock-vllm prefill/decode instances plus the built router (`buildServer` from
 * @pd-router/server) listening on 127.0.0.1:0, all in this process, logging into a CaptureLogger.
 *
 * @example
 * const stack = await startStack({ router: { prefillTimeoutMs: 500 } });
 * await stack.prefills[0].setFaults({ kind: 'hang' });
 * await stack.close();
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const prefills: MockVllm[] = [];
  const decodes: MockVllm[] = [];
  const closeMocks = (): Promise<unknown> => Promise.all([...prefills, ...decodes].map((m) => m.close()));
  try {
    for (let i = 0; i < (options.prefill ?? 1); i++)
      prefills.push(await createPrefillServer(options.prefillMock));
    for (let i = 0; i < (options.decode ?? 1); i++)
      decodes.push(await createDecodeServer(options.decodeMock));
  } catch (error) {
    await closeMocks();
    throw error;
  }
  const settings: Record<string, unknown> = {
    ...BASE_ROUTER_SETTINGS,
    prefill: prefills.map((m) => m.workerSpec),
    decode: decodes.map((m) => m.workerSpec),
    ...options.router,
  };
  const resolved = resolveConfig(settings);
  if (!resolved.ok) {
    await closeMocks();
    throw resolved.error;
  }
  const log = new CaptureLogger();
  const router = await buildServer(resolved.value, { logger: log.as(), env: options.env ?? {} });
  await router.listen({ host: '127.0.0.1', port: 0 });
  const port = (router.server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const keys = settings['apiKeys'];
  const admin = settings['adminApiKey'];
  // /workers takes an inference key, or the admin key when that is all there is.
  const apiKey =
    Array.isArray(keys) && typeof keys[0] === 'string'
      ? keys[0]
      : typeof admin === 'string'
        ? admin
        : undefined;
  const mocks = [...prefills, ...decodes];
  const mockPorts = mocks.map((m) => m.port);

  const workers = async (): Promise<WorkerState[]> => {
    const headers: Record<string, string> = apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` };
    const res = await request(`${url}/workers`, { headers, reset: true });
    const body = (await res.body.json()) as { workers?: WorkerState[] };
    if (res.statusCode !== 200 || body.workers === undefined)
      throw new Error(`GET /workers: ${res.statusCode}`);
    return body.workers;
  };
  const census = (): SocketCensus => socketCensus(port, mockPorts);
  const counters = async (): Promise<Counters> => {
    // The census first: the /workers call below opens a connection of its own (closed after it).
    const c = census();
    const list = await workers();
    return {
      inFlight: list.reduce((n, w) => n + w.inFlight, 0),
      routerInbound: c.routerInbound,
      upstreamSockets: total(c.upstream),
      mockSockets: total(c.mockSide),
      mockLoad: mocks.reduce((n, m) => n + m.load, 0),
    };
  };
  const quiet = (c: Counters): boolean =>
    c.inFlight === 0 && c.routerInbound === 0 && c.mockLoad === 0 && c.upstreamSockets === c.mockSockets;

  return {
    router,
    url,
    port,
    prefills,
    decodes,
    log,
    apiKey,
    workers,
    census,
    discoveryAddress: () => discoveryAddressOf(router),
    // Returns as soon as all is quiet: the long default only matters on a loaded machine.
    async settle(timeoutMs = 15_000) {
      const deadline = performance.now() + timeoutMs;
      let last = await counters();
      while (!(quiet(last) && pairsMatch(census())) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        last = await counters();
      }
      return last;
    },
    async resetMocks() {
      await Promise.all(mocks.map((m) => m.reset()));
    },
    async close() {
      await router.close();
      await closeMocks();
    },
  };
}

/**
 * The registration endpoint the router bound. `buildServer` decorates the instance with
 * `dynamicWorkers` (docs/dynamic-workers.md: "exposed for tests"), but the published types do not
 * declare it, hence the narrowing.
 */
function discoveryAddressOf(router: Router): string {
  const dynamic = (router as unknown as { dynamicWorkers?: { zmq?: { address?: unknown } } }).dynamicWorkers;
  const address = dynamic?.zmq?.address;
  if (typeof address !== 'string') throw new Error('the router has no ZMQ registration endpoint');
  return address;
}
