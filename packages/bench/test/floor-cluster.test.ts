import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockCluster, startMockCluster } from '../src/cluster/mock-cluster.js';
import { buildScenarios } from '../src/scenarios.js';
import { createFloorTarget } from '../src/targets/floor-target.js';
import { buildGate, missingBuild } from './built.js';
import { shortClosedLoad } from './helpers/short-load.js';

/**
 * The floor against the real mock cluster (in its child process): the generator's own prefill
 * then decode, with a P2P NCCL id, must pass the mock's KV hand-off without a single error.
 */
const gate = buildGate(missingBuild(false));

describe.skipIf(gate.skip)('floor target on the mock cluster', () => {
  let cluster: MockCluster;
  beforeAll(async () => {
    gate.check();
    cluster = await startMockCluster({ preset: 'instant' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs the KV hand-off for non-streaming and streaming requests', async () => {
    for (const name of ['chat-short', 'stream-256']) {
      const [scenario] = buildScenarios([name], { quick: true });
      const floor = createFloorTarget(cluster, scenario!.request, { connections: 4, timeoutMs: 10_000 });
      try {
        const result = await shortClosedLoad(floor);
        const r = result.recorder;
        expect(Object.fromEntries(r.errors)).toEqual({});
        expect(r.ok).toBeGreaterThan(0);
        if (scenario!.request.stream) {
          expect(r.tokens).toBeGreaterThanOrEqual(r.ok * 200);
          expect(r.ttft.count).toBe(r.ok);
        }
      } finally {
        await floor.close();
      }
    }
  });

  it("reports the mocks' effective inter-token pause: the preset's, or the scenario's override", async () => {
    expect(cluster.interTokenMs).toBe(0);
    const paced = await startMockCluster({ preset: 'bench-fast', timing: { interTokenMs: 7 } });
    try {
      expect(paced.interTokenMs).toBe(7);
    } finally {
      await paced.stop();
    }
  });

  it('fails loudly on an unknown preset', async () => {
    await expect(startMockCluster({ preset: 'warp-speed' })).rejects.toThrow(
      /unknown mock preset "warp-speed"/,
    );
  });
});
