import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { availableUrls, complete } from './dynamic-helpers.js';
import { type Router, waitFor } from './helpers.js';
import { cleanupAfterEach, podFor, startKubeRouter } from './k8s-helpers.js';

/** The slow request: long enough (~10 s) that the pod change lands while it runs, even on a loaded box. */
const SLOW_TOKENS = 40;
const SLOW_INTER_TOKEN_MS = 250;

const { open, files } = cleanupAfterEach();

function setup() {
  return startKubeRouter({ open, files });
}

/**
 * Starts the slow request; resolves once it runs on the decode (for a stream: once the first
 * chunk is through). Non-streaming answers come whole at the end, so nothing is awaited there.
 */
async function startSlow(
  router: Router,
  d1: MockVllm,
  stream: boolean,
): Promise<{ readonly answer: Promise<{ status: number; text: string }> }> {
  const chunks: string[] = [];
  const answer = (async () => {
    const res = await request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-model', prompt: 'slow', max_tokens: SLOW_TOKENS, stream }),
    });
    for await (const chunk of res.body) chunks.push(Buffer.from(chunk as Uint8Array).toString('utf8'));
    return { status: res.statusCode, text: chunks.join('') };
  })();
  // Surfaces a failure at once instead of as a timeout below (the promise is awaited later too).
  answer.catch(() => undefined);
  await waitFor(() => d1.received.length === 1, 10_000, 'the decode to receive the slow request');
  if (stream) await waitFor(() => chunks.length > 0, 10_000, 'the first streamed chunk');
  // Wrapped: an async function returning the promise itself would wait for it.
  return { answer };
}

describe('a Kubernetes pod change never drops the requests in flight on it', () => {
  it.each([
    { change: 'deleted', stream: true },
    { change: 'unready', stream: false },
  ] as const)(
    'pod $change while a slow request runs on it (stream: $stream): it finishes with 200 and its full body; new requests go elsewhere',
    async ({ change, stream }) => {
      const [p, d1, d2] = await Promise.all([
        createMockVllm({ role: 'prefill', kvWaitTimeoutMs: 5_000 }),
        createMockVllm({
          role: 'decode',
          kvWaitTimeoutMs: 5_000,
          timing: { interTokenMs: SLOW_INTER_TOKEN_MS },
        }),
        createMockVllm({ role: 'decode', kvWaitTimeoutMs: 5_000 }),
      ]);
      open.push(p, d1, d2);
      const { api, router } = await setup();
      api.set(podFor(p, 'p', 'prefill'));
      api.set(podFor(d1, 'd1', 'decode'));
      await waitFor(
        () =>
          availableUrls(router, 'decode').join() === d1.url && availableUrls(router, 'prefill').length === 1,
        10_000,
        'the listed pods',
      );
      await waitFor(() => api.watchCount === 1, 10_000, 'the watch');
      const worker = router.app.pd.registry.get(`decode:${d1.url}`);

      const slow = await startSlow(router, d1, stream);
      api.set(podFor(d2, 'd2', 'decode'));
      if (change === 'deleted') api.delete('d1');
      else api.set(podFor(d1, 'd1', 'decode', false));
      await waitFor(
        () => availableUrls(router, 'decode').join() === d2.url,
        10_000,
        `d1 ${change}, d2 ready`,
      );
      expect(router.app.pd.registry.get(`decode:${d1.url}`)).toBeUndefined();
      expect(worker?.removed).toBe(true);
      // The precondition of the test: the slow request is still running on the removed worker.
      expect(worker?.inFlight).toBe(1);
      expect(d1.received[0]?.outcome).toBeUndefined();

      // New requests go to d2 only, while d1 is still busy with the slow one.
      for (let i = 0; i < 3; i++) expect((await complete(router)).status).toBe(200);
      expect(d2.received).toHaveLength(3);
      expect(d1.received).toHaveLength(1);
      expect(worker?.inFlight).toBe(1);

      const { status, text } = await slow.answer;
      expect(status).toBe(200);
      if (stream) {
        expect(text.match(/"text":/g)).toHaveLength(SLOW_TOKENS);
        expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
      } else {
        const tokens = Array.from({ length: SLOW_TOKENS }, (_, i) => ` tok${i}`).join('');
        expect(JSON.parse(text).choices[0].text).toBe(tokens);
      }
      expect(d1.received[0]).toMatchObject({ status: 200, outcome: 'completed' });
      expect(worker?.inFlight).toBe(0);
    },
  );
});
