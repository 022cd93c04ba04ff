import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createMockCluster, createMockVllm } from '../src/index.js';
import { completionBody, completionOutcome, p2pId, post } from './helpers.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('lifecycle', () => {
  it('close() ends hung requests, frees both ports, and is idempotent', async () => {
    const mock = await createMockVllm({ faults: [{ kind: 'hang' }] });
    const pending = completionOutcome(mock.url);
    while (mock.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    await mock.close();
    await mock.close();
    // Cut: not answered, and not aborted by this side.
    expect(await pending).not.toMatch(/^(answered|AbortError)$/);
    expect(await refused(mock.port)).toBe(true);
    const again = await createMockVllm({ port: mock.port, kvPort: mock.kvPort });
    await again.close();
  });

  it('reports a port in use as PD_ERR_MOCK_LISTEN_FAILED (HTTP and KV)', async () => {
    const first = await createMockVllm();
    try {
      await expect(createMockVllm({ port: first.port })).rejects.toMatchObject({
        code: 'PD_ERR_MOCK_LISTEN_FAILED',
      });
      await expect(createMockVllm({ kvPort: first.kvPort })).rejects.toMatchObject({
        code: 'PD_ERR_MOCK_LISTEN_FAILED',
      });
    } finally {
      await first.close();
    }
  });

  it('createMockCluster starts xPyD instances with router flags, closed together', async () => {
    const cluster = await createMockCluster({ prefill: 2, decode: 1, common: { kvWaitTimeoutMs: 5_000 } });
    try {
      expect(cluster.routerArgs).toEqual([
        '--prefill',
        cluster.prefills[0]?.workerSpec,
        '--prefill',
        cluster.prefills[1]?.workerSpec,
        '--decode',
        cluster.decodes[0]?.workerSpec,
      ]);
      expect(cluster.prefills[0]?.workerSpec).toMatch(/^http:\/\/127\.0\.0\.1:\d+:zmq:\/\/127\.0\.0\.1:\d+$/);
      const [p, d] = [cluster.prefills[1], cluster.decodes[0]];
      if (p === undefined || d === undefined) throw new Error('cluster incomplete');
      const id = p2pId(p.kvAddress, d.kvAddress);
      await post(p.url, '/v1/completions', completionBody({ max_tokens: 1 }), { 'x-request-id': id });
      expect((await post(d.url, '/v1/completions', completionBody(), { 'x-request-id': id })).status).toBe(
        200,
      );
    } finally {
      await cluster.close();
    }
  });
});
