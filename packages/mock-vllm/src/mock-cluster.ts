import { createMockVllm, type MockVllm, type MockVllmExtras } from './mock-server.js';
import type { MockVllmOptions } from './options.js';

type RoleOptions = Omit<MockVllmOptions, 'role' | 'port' | 'kvPort'> & MockVllmExtras;

/**
 * Starts a prefill instance (role 'prefill', KV hand-off on).
 *
 * @example
 * const prefill = await createPrefillServer({ preset: 'realistic' });
 */
export function createPrefillServer(
  options: Omit<MockVllmOptions, 'role'> & MockVllmExtras = {},
): Promise<MockVllm> {
  return createMockVllm({ ...options, role: 'prefill' });
}

/**
 * Starts a decode instance (role 'decode': it waits for each request's KV from a prefill).
 *
 * @example
 * const decode = await createDecodeServer({ kvWaitTimeoutMs: 1_000 });
 */
export function createDecodeServer(
  options: Omit<MockVllmOptions, 'role'> & MockVllmExtras = {},
): Promise<MockVllm> {
  return createMockVllm({ ...options, role: 'decode' });
}

export interface MockClusterOptions {
  /** Prefill instances. Default 1. */
  readonly prefill?: number;
  /** Decode instances. Default 1. */
  readonly decode?: number;
  /** Options shared by every instance (ports are always picked free). */
  readonly common?: RoleOptions;
}

/** An xPyD set of mock instances, closed together. */
export interface MockCluster {
  readonly prefills: readonly MockVllm[];
  readonly decodes: readonly MockVllm[];
  /** The router's flags: `--prefill <spec> ... --decode <spec> ...`; in Mooncake mode vLLM's syntax,
   * `--prefill URL BOOTSTRAP_PORT ... --decode URL ...`. */
  readonly routerArgs: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts `prefill` + `decode` instances on free ports.
 *
 * @example
 * const cluster = await createMockCluster({ prefill: 2, decode: 2, common: { preset: 'bench-fast' } });
 * spawn('pd-router', ['--vllm-pd-disaggregation', ...cluster.routerArgs]);
 * await cluster.close();
 */
export async function createMockCluster(options: MockClusterOptions = {}): Promise<MockCluster> {
  const common = options.common ?? {};
  const started: MockVllm[] = [];
  try {
    const prefills: MockVllm[] = [];
    const decodes: MockVllm[] = [];
    for (let i = 0; i < (options.prefill ?? 1); i += 1) {
      const p = await createPrefillServer(common);
      started.push(p);
      prefills.push(p);
    }
    for (let i = 0; i < (options.decode ?? 1); i += 1) {
      const d = await createDecodeServer(common);
      started.push(d);
      decodes.push(d);
    }
    return {
      prefills,
      decodes,
      routerArgs:
        common.kvConnector === 'mooncake'
          ? [
              ...prefills.flatMap((p) => ['--prefill', p.url, String(p.bootstrapPort)]),
              ...decodes.flatMap((d) => ['--decode', d.url]),
            ]
          : [
              ...prefills.flatMap((p) => ['--prefill', p.workerSpec]),
              ...decodes.flatMap((d) => ['--decode', d.workerSpec]),
            ],
      close: async () => {
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}
