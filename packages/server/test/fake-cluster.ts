import { request } from 'undici';
import {
  closeAfterEach,
  type FakeWorker,
  jsonAnswer,
  type Router,
  startFakeWorker,
  startRouter,
  type TestConfigOverrides,
  testConfig,
} from './helpers.js';

/** Fake prefills (answering `{"prefill": true}`) and decodes behind a router, closed after each test. */
export interface FakeCluster {
  readonly p: FakeWorker[];
  readonly d: FakeWorker[];
  readonly router: Router;
}

export const COMPLETION_BODY = '{"model": "m", "prompt": "hi", "max_tokens": 5}';

/**
 * Starts `prefills` fake prefills and `decodes` fake decodes (node:http on port 0) and a router in
 * front of them with `overrides`; call `fakeClusterPerTest()` at the top of the file.
 */
export function fakeClusterPerTest(): (
  overrides?: TestConfigOverrides,
  counts?: { readonly prefills?: number; readonly decodes?: number },
) => Promise<FakeCluster> {
  const open = closeAfterEach();
  return async (overrides = {}, counts = {}) => {
    const p: FakeWorker[] = [];
    const d: FakeWorker[] = [];
    for (let i = 0; i < (counts.prefills ?? 1); i++)
      p.push(await startFakeWorker(jsonAnswer({ prefill: true })));
    for (let i = 0; i < (counts.decodes ?? 1); i++) d.push(await startFakeWorker());
    open.push(...p, ...d);
    const router = await startRouter(
      testConfig({ prefill: p.map((w) => w.spec()), decode: d.map((w) => w.spec()), ...overrides }),
    );
    open.push(router);
    return { p, d, router };
  };
}

/** POSTs a JSON body to the router (default: a small completion). */
export function postJson(
  router: Router,
  path = '/v1/completions',
  body = COMPLETION_BODY,
  signal?: AbortSignal,
) {
  return request(`${router.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    ...(signal === undefined ? {} : { signal }),
  });
}
