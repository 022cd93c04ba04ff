import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createDecodeServer, createPrefillServer } from '@pd-router/mock-vllm';
import { describe, expect, it } from 'vitest';
import { fakeClusterPerTest, postJson } from './fake-cluster.js';
import type { FakeRequest, FakeWorker, Router, TestConfigOverrides } from './helpers.js';
import { closeAfterEach, sleep, startRouter, testConfig } from './helpers.js';

const open = closeAfterEach();
const startCluster = fakeClusterPerTest();
const FIXTURE = fileURLToPath(new URL('../../../fixtures/reference-proxy/06-stream-chat/', import.meta.url));
/** The captured decode answer of a streamed chat; its placeholder id becomes vLLM's `chatcmpl-{X-Request-Id}`. */
const CAPTURED_STREAM = readFileSync(`${FIXTURE}client-response.body`, 'latin1');
const PLACEHOLDER = /cmpl-capture-D-\d+/g;
const STREAM_BODY = '{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "stream": true}';
const JSON_BODY = '{"model": "m", "prompt": "hi", "max_tokens": 5}';

function requestIdOf(req: FakeRequest): string {
  const id = req.headers['x-request-id'];
  if (typeof id !== 'string') throw new Error('no X-Request-Id');
  return id;
}

const hexOf = (id: string): string => id.slice(id.lastIndexOf('_') + 1);

/** Writes `text` as one HTTP chunk per byte: the router's relay sees a cut at every byte. */
async function writeByteByByte(res: ServerResponse, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'latin1');
  for (let i = 0; i < bytes.length; i++) {
    if (!res.write(bytes.subarray(i, i + 1))) await new Promise((resolve) => res.once('drain', resolve));
    // Let each chunk leave on its own now and then, so the relay also gets them in separate ticks.
    if (i % 64 === 0) await sleep(1);
  }
  res.end();
}

/** Makes `d` answer `body(id)` one byte per chunk, `id` being the request's X-Request-Id (the last one seen is kept). */
function answerByteByByte(
  d: FakeWorker,
  contentType: string,
  body: (id: string) => string,
): { readonly id: string } {
  const seen = { id: '' };
  d.handler = async (req, res) => {
    seen.id = requestIdOf(req);
    res.writeHead(200, { 'content-type': contentType });
    await writeByteByByte(res, body(seen.id));
  };
  return seen;
}

const capturedStream = (id: string): string => CAPTURED_STREAM.replace(PLACEHOLDER, `cmpl-${id}`);

async function setup(overrides: TestConfigOverrides = {}): Promise<{ d: FakeWorker; router: Router }> {
  const { d, router } = await startCluster(overrides);
  return { d: d[0] as FakeWorker, router };
}

const post = postJson;

describe('answer ids: internal addresses stay inside (P2P NCCL)', () => {
  it("relays a captured stream cut at every byte with only the id's addresses removed", async () => {
    const { d, router } = await setup();
    const seen = answerByteByByte(d, 'text/event-stream', capturedStream);
    const res = await post(router, '/v1/chat/completions', STREAM_BODY);
    const text = Buffer.from(await res.body.arrayBuffer()).toString('latin1');
    const id = seen.id;
    expect(res.statusCode).toBe(200);
    expect(id).toMatch(/^___prefill_addr_127\.0\.0\.1:\d+___decode_addr_127\.0\.0\.1:\d+_[0-9a-f]{32}$/);
    expect(text).toBe(capturedStream(hexOf(id)));
    expect(text).not.toContain('___prefill_addr_');
  });

  it('relays a JSON answer cut at every byte the same way (chunked, as it came)', async () => {
    const { d, router } = await setup();
    const answer = (id: string): string => `{"id": "cmpl-${id}", "object": "text_completion", "choices": []}`;
    const seen = answerByteByByte(d, 'application/json', answer);
    const res = await post(router, '/v1/completions', JSON_BODY);
    expect(await res.body.text()).toBe(answer(hexOf(seen.id)));
  });

  it('fixes the Content-Length of a JSON answer that came whole, and never sends a wrong one for one that came in parts', async () => {
    const { d, router } = await setup();
    const answer = (id: string): string => `{"id":"cmpl-${id}","object":"text_completion","choices":[]}`;
    d.handler = (req, res) => {
      const text = answer(requestIdOf(req));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
      res.end(text);
    };
    const whole = await post(router, '/v1/completions', JSON_BODY);
    const wholeText = await whole.body.text();
    const id = requestIdOf(d.received[0] as FakeRequest);
    expect(wholeText).toBe(answer(hexOf(id)));
    expect(whole.headers['content-length']).toBe(String(wholeText.length));

    d.handler = async (req, res) => {
      const text = answer(requestIdOf(req));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
      res.write(text.slice(0, 30));
      await sleep(50);
      res.end(text.slice(30));
    };
    const parts = await post(router, '/v1/completions', JSON_BODY);
    const partsText = await parts.body.text();
    expect(partsText).toBe(answer(hexOf(requestIdOf(d.received[1] as FakeRequest))));
    // Chunked, unless a starved machine delivered both writes in one read: then exact, never wrong.
    const partsLength = parts.headers['content-length'];
    if (partsLength !== undefined) expect(partsLength).toBe(String(partsText.length));
  });

  it("keeps vLLM's id, byte for byte, with keepVllmResponseId", async () => {
    const { d, router } = await setup({ keepVllmResponseId: true });
    const seen = answerByteByByte(d, 'text/event-stream', capturedStream);
    const res = await post(router, '/v1/chat/completions', STREAM_BODY);
    const text = Buffer.from(await res.body.arrayBuffer()).toString('latin1');
    const sent = capturedStream(seen.id);
    expect(text).toBe(sent);
    expect(sent).toContain('chatcmpl-___prefill_addr_');
  });

  it('rewrites the ids of real mock-vllm answers, JSON and streamed', async () => {
    const prefill = await createPrefillServer();
    const decode = await createDecodeServer({ kvWaitTimeoutMs: 10_000 });
    open.push(prefill, decode);
    const router = await startRouter(
      testConfig({ prefill: [prefill.workerSpec], decode: [decode.workerSpec] }),
    );
    open.push(router);
    const json = await post(router, '/v1/completions', '{"model":"mock-model","prompt":"a","max_tokens":3}');
    const jsonText = await json.body.text();
    const id = decode.received[0]?.requestId ?? '';
    expect((JSON.parse(jsonText) as { id: string }).id).toBe(`cmpl-${hexOf(id)}`);
    expect(json.headers['content-length']).toBe(String(Buffer.byteLength(jsonText)));

    const stream = await post(
      router,
      '/v1/chat/completions',
      '{"model": "mock-model", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": true}',
    );
    const text = await stream.body.text();
    const streamId = decode.received[1]?.requestId ?? '';
    const events = text.split('\n\n').filter((e) => e !== '' && e !== 'data: [DONE]');
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const event of events) {
      expect((JSON.parse(event.slice('data: '.length)) as { id: string }).id).toBe(
        `chatcmpl-${hexOf(streamId)}`,
      );
    }
    expect(text).not.toContain('___prefill_addr_');
  });
});
