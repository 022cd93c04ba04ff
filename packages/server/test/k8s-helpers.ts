import { rmSync } from 'node:fs';
import type { MockVllm } from '@pd-router/mock-vllm';
import { afterEach } from 'vitest';
import { HEALTH_OFF, startDynamicRouter } from './dynamic-helpers.js';
import { FakeKubeApi, type FakePod } from './fake-kube-api.js';
import { closeAfterEach, type Router, testConfig } from './helpers.js';

/** What a test closes and deletes after each case. */
export interface Cleanup {
  readonly open: { close(): Promise<void> }[];
  readonly files: string[];
}

/** What each test opened and wrote, closed and deleted after it (newest first). */
export function cleanupAfterEach(): Cleanup {
  const files: string[] = [];
  // Registered first, so it runs after closeAfterEach's hook: files go once their users are closed.
  afterEach(() => {
    for (const file of files.splice(0)) rmSync(file, { force: true });
  });
  return { open: closeAfterEach(), files };
}

/** A pod for a mock instance: its address in annotations (every mock shares 127.0.0.1). */
export function podFor(
  m: Pick<MockVllm, 'port' | 'kvAddress'>,
  uid: string,
  role: 'prefill' | 'decode',
  ready = true,
  extra: Partial<FakePod> = {},
): FakePod {
  return {
    uid,
    name: `vllm-${uid}`,
    labels: { app: 'vllm', role },
    annotations: { 'pd-router.io/http-port': String(m.port), 'pd-router.io/zmq-address': m.kvAddress },
    ip: '127.0.0.1',
    ready,
    ...extra,
  };
}

/** A fake Kubernetes API (namespace `llm`) and a router discovering `app=vllm` pods through it. */
export async function startKubeRouter(cleanup: Cleanup): Promise<{ api: FakeKubeApi; router: Router }> {
  const api = new FakeKubeApi('llm');
  await api.start();
  cleanup.open.push(api);
  const kubeconfig = api.kubeconfig();
  cleanup.files.push(kubeconfig);
  const router = await startDynamicRouter(
    testConfig({
      kubernetes: {
        namespace: 'llm',
        selector: ['app=vllm'],
        prefillSelector: ['role=prefill'],
        decodeSelector: ['role=decode'],
        port: 8000,
        kubeconfig,
      },
      health: HEALTH_OFF,
    }),
  );
  cleanup.open.push(router);
  return { api, router };
}
