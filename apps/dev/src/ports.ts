import { createServer } from 'node:net';
import { DevError } from './errors.js';
import { type DevOptions, KV_PORT_OFFSET } from './options.js';

export const LOOPBACK = '127.0.0.1';

/** One mock vLLM instance to start; port 0 lets the instance pick (it prints what it chose). */
export interface InstancePlan {
  /** "prefill-1", "decode-2": how messages and the banner name it. */
  readonly name: string;
  readonly role: 'prefill' | 'decode';
  readonly port: number;
  readonly kvPort: number;
}

/** A port the dev stack is about to listen on, named for messages. */
export interface PlannedPort {
  readonly port: number;
  readonly label: string;
}

/**
 * Lays out the mock instances: prefills first, then decodes, on consecutive ports from `basePort`,
 * each with its KV port KV_PORT_OFFSET above; all 0 when `basePort` is 0.
 *
 * @example
 * planInstances({ ...options, prefillCount: 1, decodeCount: 1, basePort: 20001 })
 * // [{ name: 'prefill-1', port: 20001, kvPort: 21001, ... }, { name: 'decode-1', port: 20002, kvPort: 21002, ... }]
 */
export function planInstances(
  o: Pick<DevOptions, 'prefillCount' | 'decodeCount' | 'basePort'>,
): InstancePlan[] {
  const plans: InstancePlan[] = [];
  const add = (role: 'prefill' | 'decode', count: number): void => {
    for (let i = 1; i <= count; i += 1) {
      const port = o.basePort === 0 ? 0 : o.basePort + plans.length;
      plans.push({ name: `${role}-${i}`, role, port, kvPort: port === 0 ? 0 : port + KV_PORT_OFFSET });
    }
  };
  add('prefill', o.prefillCount);
  add('decode', o.decodeCount);
  return plans;
}

/** Every fixed (non-zero) port of the plan, for the in-use check. */
export function fixedPorts(routerPort: number, plans: readonly InstancePlan[]): PlannedPort[] {
  const ports: PlannedPort[] = [];
  if (routerPort !== 0) ports.push({ port: routerPort, label: 'pd-router' });
  for (const p of plans) {
    if (p.port !== 0) ports.push({ port: p.port, label: `${p.name} HTTP` });
    if (p.kvPort !== 0) ports.push({ port: p.kvPort, label: `${p.name} KV` });
  }
  return ports;
}

/** Resolves to undefined when `port` can be bound on 127.0.0.1, else to the bind error's code. */
export function probePort(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** A port that was free a moment ago (the kernel's pick); the caller binds it soon after. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Fails with `PD_ERR_DEV_PORT_IN_USE`, naming every busy port at once, before any process starts;
 * a duplicate in the plan (router port inside the mock range) is reported the same way.
 */
export async function assertPortsFree(ports: readonly PlannedPort[]): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const { port, label } of ports) {
    const other = seen.get(port);
    if (other !== undefined) problems.push(`port ${port} is planned twice (${other} and ${label})`);
    seen.set(port, label);
  }
  const unique = [...new Map(ports.map((p) => [p.port, p])).values()];
  const results = await Promise.all(unique.map(async (p) => ({ ...p, code: await probePort(p.port) })));
  for (const { port, label, code } of results) {
    if (code === 'EADDRINUSE') problems.push(`port ${port} (${label}) is already in use`);
    else if (code !== undefined) problems.push(`port ${port} (${label}) cannot be bound: ${code}`);
  }
  if (problems.length > 0) {
    throw new DevError(
      'PD_ERR_DEV_PORT_IN_USE',
      `${problems.join('\n')}\nStop whatever holds them (another pnpm dev?), or choose other ports: ` +
        '--port N for the router, --base-port N for the mocks (0 picks free ones).',
    );
  }
}
