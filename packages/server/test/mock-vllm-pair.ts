import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type Router, startRouter, testConfig } from './helpers.js';

/** One real mock-vllm prefill and decode (P2P NCCL over ZeroMQ) with a router in front. */
export interface MockVllmPair {
  readonly prefill: MockVllm;
  readonly decode: MockVllm;
  readonly router: Router;
}

/**
 * Starts the pair before the file's tests and closes it after them; read the fields inside tests.
 * Budgets are far above a loaded machine's event-loop stalls: no test using it waits for one.
 */
export function mockVllmPairForFile(): MockVllmPair {
  const pair = {} as { prefill: MockVllm; decode: MockVllm; router: Router };
  beforeAll(async () => {
    pair.prefill = await createPrefillServer();
    pair.decode = await createDecodeServer({ kvWaitTimeoutMs: 10_000 });
    pair.router = await startRouter(
      testConfig({
        prefill: [pair.prefill.workerSpec],
        decode: [pair.decode.workerSpec],
        prefillTimeoutMs: 10_000,
        decodeTtftTimeoutMs: 10_000,
      }),
    );
  });
  afterAll(async () => {
    await pair.router.close();
    await Promise.all([pair.prefill.close(), pair.decode.close()]);
  });
  return pair;
}

/** A Mooncake prefill of two DP ranks, whose engine ids are `engine-P1` and `engine-P1_dp1`. */
export const MOONCAKE_DP2_PREFILL = {
  kvConnector: 'mooncake',
  mooncakeDpSize: 2,
  nixlEngineId: 'engine-P1',
} as const satisfies Parameters<typeof createPrefillServer>[0];

export interface MockVllmWorkers {
  readonly prefill: MockVllm;
  readonly decode: MockVllm;
}

/**
 * A real mock-vllm prefill and decode (with `options`) for the whole file, reset (faults, records)
 * before each test and closed after the file; the tests put routers in front as they need.
 */
export function mockVllmWorkersForFile(
  options: {
    readonly prefill?: Parameters<typeof createPrefillServer>[0];
    readonly decode?: Parameters<typeof createDecodeServer>[0];
  } = {},
): MockVllmWorkers {
  const workers = {} as { prefill: MockVllm; decode: MockVllm };
  beforeAll(async () => {
    workers.prefill = await createPrefillServer(options.prefill);
    workers.decode = await createDecodeServer(options.decode);
  });
  afterAll(async () => {
    await Promise.all([workers.prefill?.close(), workers.decode?.close()]);
  });
  beforeEach(async () => {
    await Promise.all([workers.prefill.reset(), workers.decode.reset()]);
  });
  return workers;
}
