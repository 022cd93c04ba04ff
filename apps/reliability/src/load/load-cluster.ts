import { readFileSync } from 'node:fs';
import { createMockCluster, type MockCluster } from '@pd-router/mock-vllm';
import { type RouterProcess, startRouterProcess } from '../harness/router-process.js';

export interface LoadClusterOptions {
  readonly prefill: number;
  readonly decode: number;
  /** Mock timing (mock-vllm `timing`): inter-token delay, concurrency limit... */
  readonly interTokenMs: number;
  readonly maxConcurrency: number;
  /** Max connections per worker in the router's pools. */
  readonly upstreamConnections: number;
}

export interface LoadCluster {
  readonly mocks: MockCluster;
  readonly router: RouterProcess;
  close(): Promise<void>;
}

/**
 * A mock cluster in this process and the built router CLI in its own process (so its RSS is its
 * own), logging at warn: every line it prints is a failed request or worse.
 *
 * @example
 * const cluster = await startLoadCluster({ prefill: 2, decode: 4, interTokenMs: 200, maxConcurrency: 0, upstreamConnections: 1024 });
 */
export async function startLoadCluster(o: LoadClusterOptions): Promise<LoadCluster> {
  const mocks = await createMockCluster({
    prefill: o.prefill,
    decode: o.decode,
    common: {
      timing: {
        ttftBaseMs: 0,
        ttftPerPromptTokenMs: 0,
        kvLoadPerPromptTokenMs: 0,
        interTokenMs: o.interTokenMs,
        maxConcurrency: o.maxConcurrency,
      },
      // The received log keeps bodies; a long run only needs the outcome counts.
      maxReceived: 100,
    },
  });
  let router: RouterProcess;
  try {
    router = await startRouterProcess([
      ...mocks.routerArgs,
      '--log-level',
      'warn',
      '--health-check-interval-ms',
      '0',
      '--upstream-connections',
      String(o.upstreamConnections),
    ]);
  } catch (error) {
    await mocks.close();
    throw error;
  }
  return {
    mocks,
    router,
    async close() {
      await router.stop();
      await mocks.close();
    },
  };
}

/**
 * This process's soft limit on open files (`ulimit -n`), which the router child inherits. A burst
 * of N streams holds about 2N descriptors here (clients and mock sides) and 2N in the router.
 */
export function openFileLimit(): number {
  const limits = readFileSync('/proc/self/limits', 'latin1');
  const m = /Max open files\s+(\d+|unlimited)/.exec(limits);
  if (m === null) return Number.POSITIVE_INFINITY;
  return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}
