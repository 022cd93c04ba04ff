import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockCluster, startMockCluster } from '../src/cluster/mock-cluster.js';
import { buildScenarios } from '../src/scenarios.js';
import { createFloorTarget, nixlFloorBodies } from '../src/targets/floor-target.js';
import { buildGate, missingBuild } from './built.js';
import { shortClosedLoad } from './helpers/short-load.js';

/**
 * The NIXL floor against NIXL mocks: prefill with the request skeleton, decode with the params the
 * prefill answered; the decode reads the blocks over the mocks' side channel and never recomputes.
 */
const gate = buildGate(missingBuild(false));

async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('NIXL floor bodies', () => {
  it("are the toy proxy's prefill body and the client body with the params appended", () => {
    const bodies = nixlFloorBodies(
      new TextEncoder().encode(
        '{"model":"m","stream":true,"stream_options":{"include_usage":true},"max_tokens":9}',
      ),
    );
    expect(bodies.prefill.toString('latin1')).toBe(
      '{"model": "m", "stream": false, "max_tokens": 1, "kv_transfer_params": {"do_remote_decode": true, "do_remote_prefill": false, "remote_engine_id": null, "remote_block_ids": null, "remote_host": null, "remote_port": null}}',
    );
    expect(bodies.decodeHead).toBe(
      '{"model": "m", "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 9, "kv_transfer_params": ',
    );
  });
});

describe.skipIf(gate.skip)('NIXL floor target on the NIXL mock cluster', () => {
  let cluster: MockCluster;
  beforeAll(async () => {
    gate.check();
    cluster = await startMockCluster({ preset: 'instant', kvConnector: 'nixl' });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('hands the KV over for non-streaming and streaming requests, without a recompute', async () => {
    for (const name of ['chat-short', 'stream-256']) {
      const [scenario] = buildScenarios([name], { quick: true });
      const floor = createFloorTarget(
        cluster,
        scenario!.request,
        { connections: 4, timeoutMs: 10_000 },
        'nixl',
      );
      try {
        const result = await shortClosedLoad(floor);
        expect(Object.fromEntries(result.recorder.errors)).toEqual({});
        expect(result.recorder.ok).toBeGreaterThan(0);
      } finally {
        await floor.close();
      }
    }
    expect(await metricSum(cluster.decode.url, 'vllm:nixl_recomputes_total')).toBe(0);
  });
});
