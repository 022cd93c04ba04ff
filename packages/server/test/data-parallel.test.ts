import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { fakeClusterPerTest, postJson } from './fake-cluster.js';
import type { FakeWorker } from './helpers.js';

const startCluster = fakeClusterPerTest();

async function setup(size: number) {
  const { p, d, router } = await startCluster({ intraNodeDataParallelSize: size });
  const send = async () => {
    const res = await postJson(router);
    expect(res.statusCode).toBe(200);
    await res.body.text();
  };
  return { p: p[0] as FakeWorker, d: d[0] as FakeWorker, router, send };
}

/** The value of each request's X-data-parallel-rank (undefined when absent), and how often it was sent. */
function ranks(worker: FakeWorker): (string | undefined)[] {
  return worker.received.map((r) => {
    const sent = r.rawHeaders.filter(
      (_, i) => i % 2 === 0 && r.rawHeaders[i]?.toLowerCase() === 'x-data-parallel-rank',
    );
    expect(sent.length).toBeLessThanOrEqual(1);
    const value = r.headers['x-data-parallel-rank'];
    return Array.isArray(value) ? value.join(',') : value;
  });
}

describe('--intra-node-data-parallel-size', () => {
  it('makes each worker URL N workers, ranks 0..N-1, each leg carrying X-data-parallel-rank', async () => {
    const { p, d, router, send } = await setup(3);
    for (let i = 0; i < 6; i++) await send();
    // round_robin sees three prefill and three decode workers: ranks go 0, 1, 2, 0, 1, 2 on both legs.
    expect(ranks(p)).toEqual(['0', '1', '2', '0', '1', '2']);
    expect(ranks(d)).toEqual(['0', '1', '2', '0', '1', '2']);
    // The rank header follows the reference's set (undici still writes content-length last).
    const raw = d.received[1]?.rawHeaders ?? [];
    const at = raw.indexOf('X-data-parallel-rank');
    expect(raw.slice(at - 2, at + 2)).toEqual([
      'Content-Type',
      'application/json',
      'X-data-parallel-rank',
      '1',
    ]);
    const workers = (await (await request(`${router.url}/workers`)).body.json()) as {
      workers: { role: string; url: string }[];
    };
    expect(workers.workers.map((w) => `${w.role} ${w.url}`)).toEqual([
      `prefill ${p.url}@0`,
      `prefill ${p.url}@1`,
      `prefill ${p.url}@2`,
      `decode ${d.url}@0`,
      `decode ${d.url}@1`,
      `decode ${d.url}@2`,
    ]);
  });

  it('sends no rank header with 1 (the default): the reference header set is unchanged', async () => {
    const { p, d, send } = await setup(1);
    await send();
    expect(ranks(p)).toEqual([undefined]);
    expect(ranks(d)).toEqual([undefined]);
  });
});
