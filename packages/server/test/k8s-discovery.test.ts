import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { buildServer } from '../src/app.js';
import { ServerError } from '../src/errors.js';
import { availableUrls, complete, metricValue } from './dynamic-helpers.js';
import { testConfig, waitFor } from './helpers.js';
import { cleanupAfterEach, podFor, startKubeRouter } from './k8s-helpers.js';

const { open, files } = cleanupAfterEach();

function setup() {
  return startKubeRouter({ open, files });
}

async function mocks(...roles: ('prefill' | 'decode')[]): Promise<MockVllm[]> {
  const started = await Promise.all(roles.map((role) => createMockVllm({ role, kvWaitTimeoutMs: 5_000 })));
  open.push(...started);
  return started;
}

describe('Kubernetes pod discovery (--service-discovery)', () => {
  it('adds ready pods and removes deleted, unready and terminating ones, through list and watch', async () => {
    const [p1, p2, d1] = (await mocks('prefill', 'prefill', 'decode')) as [MockVllm, MockVllm, MockVllm];
    const { api, router } = await setup();
    api.set(podFor(p1, 'p1', 'prefill'));
    api.set(podFor(d1, 'd1', 'decode', false));
    api.set({ ...podFor(d1, 'x', 'decode'), labels: { app: 'other', role: 'decode' } });
    await waitFor(() => availableUrls(router, 'prefill').length === 1, 15_000, 'the listed prefill pod');
    expect(availableUrls(router, 'decode')).toEqual([]);
    expect(api.requests[0]?.query.get('labelSelector')).toBe('app=vllm');
    await waitFor(() => api.watchCount === 1, 15_000, 'the watch');
    expect(router.app.pd.registry.get(`prefill:${p1.url}`)).toMatchObject({
      source: 'kubernetes',
      address: { zmq: { text: p1.kvAddress } },
    });

    api.set(podFor(d1, 'd1', 'decode', true));
    await waitFor(() => availableUrls(router, 'decode').length === 1, 15_000, 'd1 to become ready');
    expect((await complete(router)).status).toBe(200);

    api.delete('p1');
    api.set(podFor(p2, 'p2', 'prefill'));
    await waitFor(() => availableUrls(router, 'prefill').join() === p2.url, 15_000, 'p1 replaced by p2');
    expect((await complete(router)).status).toBe(200);
    expect(p2.received).toHaveLength(1);

    api.set(podFor(d1, 'd1', 'decode', true, { terminating: true }));
    await waitFor(() => availableUrls(router, 'decode').length === 0, 15_000, 'd1 terminating');
    api.set(podFor(p2, 'p2', 'prefill', false));
    await waitFor(() => availableUrls(router, 'prefill').length === 0, 15_000, 'p2 unready');
    const removed = (reason: string, role: string) =>
      metricValue(
        router,
        `pd_router_discovery_removals_total{source="kubernetes",role="${role}",reason="${reason}"}`,
      );
    expect(await removed('deleted', 'prefill')).toBe(1);
    expect(await removed('not_ready', 'prefill')).toBe(1);
    expect(await removed('not_ready', 'decode')).toBe(1);
    expect(
      await metricValue(
        router,
        'pd_router_discovery_registrations_total{source="kubernetes",role="prefill"}',
      ),
    ).toBe(2);
  });

  it('reconnects after the watch breaks, catching up on what changed meanwhile, and relists on 410 Gone', async () => {
    const [p1, d1, d2] = (await mocks('prefill', 'decode', 'decode')) as [MockVllm, MockVllm, MockVllm];
    const { api, router } = await setup();
    api.set(podFor(p1, 'p1', 'prefill'));
    api.set(podFor(d1, 'd1', 'decode'));
    await waitFor(() => availableUrls(router, 'decode').length === 1 && api.watchCount === 1, 15_000);

    api.dropWatches();
    api.delete('d1');
    api.set(podFor(d2, 'd2', 'decode'));
    await waitFor(
      () => availableUrls(router, 'decode').join() === d2.url,
      10_000,
      'the state after a reconnect',
    );
    await waitFor(() => api.watchCount === 1, 15_000, 'the watch to resume');

    // History compacted while disconnected: the resumed watch gets 410 and discovery lists again.
    const lists = () => api.requests.filter((r) => r.query.get('watch') !== 'true').length;
    const listsBefore = lists();
    api.dropWatches();
    api.compact();
    api.delete('d2');
    await waitFor(() => availableUrls(router, 'decode').length === 0, 20_000, 'the relist after 410');
    expect(lists()).toBeGreaterThan(listsBefore);
    api.set(podFor(d1, 'd1b', 'decode'));
    await waitFor(() => availableUrls(router, 'decode').join() === d1.url, 20_000, 'events after the relist');
    expect((await complete(router)).status).toBe(200);
  });

  it('refuses to start without a cluster to talk to, or when the registration port is taken', async () => {
    const k8s = testConfig({
      kubernetes: {
        namespace: 'llm',
        selector: [],
        prefillSelector: ['r=p'],
        decodeSelector: [],
        port: 8000,
        kubeconfig: undefined,
      },
    });
    await expect(buildServer(k8s, { env: {} })).rejects.toMatchObject({
      name: 'ServerError',
      code: 'PD_ERR_DISCOVERY_START_FAILED',
      message: expect.stringContaining('give --kubeconfig FILE'),
    });

    const taken = new zmq.Router();
    await taken.bind('tcp://127.0.0.1:*');
    const port = Number(taken.lastEndpoint?.split(':').pop());
    const bound = buildServer(
      testConfig({ discovery: { host: '127.0.0.1', port, ttlMs: 1_000, allow: [] } }),
    );
    await expect(bound).rejects.toBeInstanceOf(ServerError);
    await expect(bound).rejects.toMatchObject({
      code: 'PD_ERR_DISCOVERY_START_FAILED',
      message: expect.stringContaining(`cannot bind the registration socket tcp://127.0.0.1:${port}`),
    });
    taken.close();
  });
});
