import { existsSync } from 'node:fs';
import type { ChildGroup } from './child-group.js';
import { DevError } from './errors.js';
import { ManagedChild } from './managed-child.js';
import type { DevOptions } from './options.js';
import {
  assertPortsFree,
  fixedPorts,
  type InstancePlan,
  LOOPBACK,
  pickFreePort,
  planInstances,
} from './ports.js';
import { resolveBin } from './resolve-bin.js';
import { waitForRouter } from './wait-for-router.js';

/** Starting Node and binding two sockets; generous for a loaded 2-core machine. */
export const MOCK_READY_TIMEOUT_MS = 20_000;
export const ROUTER_READY_TIMEOUT_MS = 30_000;
/** The router's own drain budget on SIGTERM, kept below STOP_GRACE_MS so it exits before SIGKILL. */
export const ROUTER_SHUTDOWN_TIMEOUT_MS = 1_000;

/** pd-router's log line once listening (the CLI writes it at info level, inside a JSON log line). */
const ROUTER_LISTENING = /pd-router listening on (http:\/\/[^\s"]+)/;
/** Log levels at which the router does not write its listening line. */
const QUIET_LOG_LEVELS: ReadonlySet<string> = new Set(['warn', 'error', 'fatal', 'silent']);

/** mock-vllm's one line once listening (its CLI contract). */
const MOCK_READY_LINE = /^mock-vllm role=(\S+) url=(\S+) kv=(\S+) model=(\S+)(?: bootstrap=\S+:(\d+))?$/;

/** A mock vLLM instance that printed its ready line. */
export interface RunningMock {
  readonly plan: InstancePlan;
  readonly child: ManagedChild;
  readonly url: string;
  /** "127.0.0.1:21001": the P2P NCCL KV (ZMQ) address. */
  readonly kvAddress: string;
  readonly model: string;
  /** The router's worker spec: "http://H:P:zmq://H:KVP". */
  readonly workerSpec: string;
  /** A Mooncake prefill's bootstrap port, given to the router after its URL. */
  readonly bootstrapPort: string | undefined;
}

/** The whole stack, ready to take requests. */
export interface DevCluster {
  readonly routerUrl: string;
  readonly router: ManagedChild;
  readonly mocks: readonly RunningMock[];
  /** The model name the mocks serve (what clients should send). */
  readonly model: string;
}

function builtCli(packageName: string, binName: string): string {
  const path = resolveBin(packageName, binName);
  if (!existsSync(path)) {
    throw new DevError(
      'PD_ERR_DEV_CHILD_FAILED',
      `${path} is missing: build first (pnpm dev builds it for you)`,
    );
  }
  return path;
}

async function startMock(
  cli: string,
  plan: InstancePlan,
  o: DevOptions,
  group: ChildGroup,
  signal: AbortSignal,
) {
  const args = [cli, '--role', plan.role, '--host', LOOPBACK, '--port', String(plan.port)];
  args.push('--kv-port', String(plan.kvPort), '--preset', o.preset);
  // The mocks must speak the router's connector: NIXL mocks answer kv_transfer_params and serve
  // block reads on their KV port (the NIXL side channel) instead of P2P NCCL's ZMQ hand-off.
  // Mooncake prefills also serve the bootstrap /query the router asks for their engine ids.
  if (o.kvConnector !== undefined) args.push('--kv-connector', o.kvConnector);
  if (o.kvConnector === 'mooncake' && plan.role === 'prefill') args.push('--mooncake-bootstrap-port', '0');
  const child = group.add(ManagedChild.spawn(plan.name, process.execPath, args));
  const match = await child.waitForLine(MOCK_READY_LINE, MOCK_READY_TIMEOUT_MS, signal);
  const [, , url = '', kvAddress = '', model = '', bootstrapPort] = match;
  return {
    plan,
    child,
    url,
    kvAddress,
    model,
    // NIXL and Mooncake workers need no ZMQ address (everything travels in kv_transfer_params).
    workerSpec: o.kvConnector === 'nixl' || o.kvConnector === 'mooncake' ? url : `${url}:zmq://${kvAddress}`,
    bootstrapPort,
  } satisfies RunningMock;
}

/** The router's command line: the documented vllm-router-compatible flags, as a user would type them. */
export function routerArgs(o: DevOptions, port: number, mocks: readonly RunningMock[]): string[] {
  const args = ['--vllm-pd-disaggregation', '--policy', o.policy];
  for (const mock of mocks) {
    args.push(mock.plan.role === 'prefill' ? '--prefill' : '--decode', mock.workerSpec);
    if (mock.bootstrapPort !== undefined) args.push(mock.bootstrapPort);
  }
  args.push('--host', LOOPBACK, '--port', String(port));
  args.push('--shutdown-timeout-ms', String(ROUTER_SHUTDOWN_TIMEOUT_MS));
  if (o.kvConnector !== undefined) args.push('--kv-connector', o.kvConnector);
  if (o.logLevel !== undefined) args.push('--log-level', o.logLevel);
  return args;
}

/**
 * Starts the mocks (in parallel), then pd-router in front of them, and resolves once the router
 * reports every worker healthy. Every process goes into `group`: the caller stops them, whatever
 * happens here. Fixed ports are checked first, so a busy port fails before anything starts.
 */
export async function startDevCluster(
  o: DevOptions,
  group: ChildGroup,
  signal: AbortSignal,
): Promise<DevCluster> {
  const mockCli = builtCli('@pd-router/mock-vllm', 'mock-vllm');
  const routerCli = builtCli('@pd-router/server', 'pd-router');
  const plans = planInstances(o);
  await assertPortsFree(fixedPorts(o.port, plans));
  signal.throwIfAborted();

  const mocks = await Promise.all(plans.map((plan) => startMock(mockCli, plan, o, group, signal)));
  const model = mocks[0]?.model ?? 'mock-model';
  // With --port 0 the router binds a free port itself and says which in its "listening" line (at
  // info level): a port picked here and handed over could be taken by another process in between.
  // Only when its log level hides that line is a port picked here, right before the router starts.
  const readsPort = o.port === 0 && !QUIET_LOG_LEVELS.has(o.logLevel ?? 'info');
  const port = o.port !== 0 || readsPort ? o.port : await pickFreePort();
  signal.throwIfAborted();
  const router = group.add(
    ManagedChild.spawn('pd-router', process.execPath, [routerCli, ...routerArgs(o, port, mocks)]),
  );
  let routerUrl = `http://${LOOPBACK}:${port}`;
  if (readsPort) {
    const listening = await router.waitForLine(ROUTER_LISTENING, ROUTER_READY_TIMEOUT_MS, signal);
    routerUrl = listening[1] ?? routerUrl;
  }
  await waitForRouter(router, routerUrl, mocks.length, ROUTER_READY_TIMEOUT_MS, signal);
  return { routerUrl, router, mocks, model };
}
