import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrefillServer, type MockVllm } from '../src/index.js';
import { chatBody, post, send, sseData } from './helpers.js';
import {
  blockIdsOf,
  lastReceived,
  longChat,
  longCompletion,
  metricsOf,
  metricValue,
  PREFILL_SKELETON,
  prefillLeg,
} from './nixl-helpers.js';

const KEY_ORDER = [
  'do_remote_prefill',
  'do_remote_decode',
  'remote_block_ids',
  'remote_engine_id',
  'remote_request_id',
  'remote_host',
  'remote_port',
  'tp_size',
];

let prefill: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer({ kvConnector: 'nixl' });
});
afterAll(async () => {
  await prefill.close();
});

describe('NIXL prefill answers', () => {
  it('returns kv_transfer_params last, in vLLM key order, naming this instance (completions)', async () => {
    const { reply, json, params, id } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect(reply.status).toBe(200);
    expect(Object.keys(json).at(-1)).toBe('kv_transfer_params');
    expect(Object.keys(params ?? {})).toEqual(KEY_ORDER);
    expect(params).toEqual({
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: expect.any(Array),
      remote_engine_id: prefill.engineId,
      remote_request_id: `cmpl-${id}-0`,
      remote_host: 'localhost',
      remote_port: prefill.kvPort,
      tp_size: 1,
    });
    expect(prefill.engineId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // 200 characters = 50 prompt tokens = 3 full blocks of 16.
    expect(blockIdsOf(params).length).toBe(3);
    expect(json).toMatchObject({ id: `cmpl-${id}`, choices: [{ text: ' tok0', finish_reason: 'length' }] });
    expect(lastReceived(prefill).nixl).toEqual({
      path: 'prefill-held',
      remoteRequestId: `cmpl-${id}-0`,
      blockIds: params?.['remote_block_ids'],
    });
  });

  it('names the chat engine id chatcmpl-{X-Request-Id} and counts the held blocks', async () => {
    const before = await metricsOf(prefill);
    const { params, id } = await prefillLeg(prefill, '/v1/chat/completions', longChat());
    expect(params?.['remote_request_id']).toBe(`chatcmpl-${id}`);
    const blocks = blockIdsOf(params).length;
    expect(blocks).toBeGreaterThan(0);
    const after = await metricsOf(prefill);
    expect(metricValue(after, 'vllm:nixl_held_blocks')).toBe(
      metricValue(before, 'vllm:nixl_held_blocks') + blocks,
    );
    expect(metricValue(after, 'vllm:nixl_held_requests')).toBe(
      metricValue(before, 'vllm:nixl_held_requests') + 1,
    );
  });

  it('answers empty remote_block_ids and holds nothing for a prompt shorter than one block', async () => {
    const before = metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests');
    const { params } = await prefillLeg(prefill, '/v1/chat/completions', chatBody());
    expect(params?.['remote_block_ids']).toEqual([]);
    expect(Object.keys(params ?? {})).toEqual(KEY_ORDER);
    expect(lastReceived(prefill).nixl?.path).toBe('prefill-no-blocks');
    expect(metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests')).toBe(before);
  });

  it('answers a request without do_remote_decode as a plain one: no params', async () => {
    const r = await post(prefill.url, '/v1/completions', longCompletion(), { 'x-request-id': randomUUID() });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).kv_transfer_params).toBeNull();
    expect(lastReceived(prefill).nixl).toEqual({ path: 'prefill-plain' });
    const decodeStyle = await post(prefill.url, '/v1/completions', {
      ...longCompletion(),
      kv_transfer_params: { do_remote_decode: false },
    });
    expect(JSON.parse(decodeStyle.text).kv_transfer_params).toBeNull();
  });

  it('returns null params when the request did not end length-capped (EOS first)', async () => {
    // The mock's chat without a token limit ends with "stop", as if the model emitted EOS.
    const { max_tokens: _, ...unlimited } = longChat();
    const r = await post(prefill.url, '/v1/chat/completions', {
      ...unlimited,
      kv_transfer_params: PREFILL_SKELETON,
      stream: false,
    });
    expect(JSON.parse(r.text)).toMatchObject({
      choices: [{ finish_reason: 'stop' }],
      kv_transfer_params: null,
    });
    expect(lastReceived(prefill).nixl).toEqual({ path: 'prefill-no-params' });
  });

  it('nixl-no-params fault: finish_reason stop, kv_transfer_params null, nothing held', async () => {
    const p = await createPrefillServer({
      kvConnector: 'nixl',
      faults: [{ kind: 'nixl-no-params', times: 1 }],
    });
    try {
      const { json, params } = await prefillLeg(p, '/v1/completions', longCompletion());
      expect(params).toBeNull();
      expect(json).toMatchObject({ choices: [{ finish_reason: 'stop' }], usage: { completion_tokens: 1 } });
      expect(Object.keys(json).at(-1)).toBe('kv_transfer_params');
      expect(lastReceived(p).nixl).toEqual({ path: 'prefill-no-params' });
      expect(metricValue(await metricsOf(p), 'vllm:nixl_held_requests')).toBe(0);
      // times: 1 — the next request gets its params again.
      expect((await prefillLeg(p, '/v1/completions', longCompletion())).params).not.toBeNull();
    } finally {
      await p.close();
    }
  });

  it('nixl-bad-params fault: holds the blocks but leaves remote_engine_id out', async () => {
    await prefill.setFaults({ kind: 'nixl-bad-params', times: 1 });
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect(Object.keys(params ?? {})).toEqual(KEY_ORDER.filter((k) => k !== 'remote_engine_id'));
    expect(lastReceived(prefill).nixl?.path).toBe('prefill-bad-params');
  });

  it("batched prompts: holds blocks for each, returns only the first prompt's params", async () => {
    const before = metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests');
    const { params, id } = await prefillLeg(prefill, '/v1/completions', {
      ...longCompletion(),
      prompt: [longCompletion().prompt, `${longCompletion().prompt} again`],
    });
    expect(params?.['remote_request_id']).toBe(`cmpl-${id}-0`);
    expect(metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests')).toBe(before + 2);
  });

  it('holds blocks for a streamed prefill too, though the stream carries no params', async () => {
    const id = randomUUID();
    const before = metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests');
    const r = await post(
      prefill.url,
      '/v1/completions',
      { ...longCompletion(), kv_transfer_params: PREFILL_SKELETON, stream: true },
      { 'x-request-id': id },
    );
    expect(sseData(r.text).at(-1)).toBe('[DONE]');
    expect(r.text).not.toContain('kv_transfer_params');
    expect(lastReceived(prefill).nixl?.path).toBe('prefill-held');
    expect(metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests')).toBe(before + 1);
  });

  it('answers the configured side-channel host, port and engine id', async () => {
    const p = await createPrefillServer({
      kvConnector: 'nixl',
      nixlSideChannelHost: '127.0.0.1',
      nixlSideChannelPort: 5600,
      nixlEngineId: 'engine-P1',
    });
    try {
      const { params } = await prefillLeg(p, '/v1/completions', longCompletion());
      expect(params).toMatchObject({
        remote_engine_id: 'engine-P1',
        remote_host: '127.0.0.1',
        remote_port: 5600,
      });
      expect(p.engineId).toBe('engine-P1');
    } finally {
      await p.close();
    }
  });

  it('exposes the NIXL state and clears held blocks on reset', async () => {
    await prefillLeg(prefill, '/v1/completions', longCompletion());
    const state = JSON.parse((await send(`${prefill.url}/_mock/state`)).text) as Record<string, unknown>;
    expect(state['kvConnector']).toBe('nixl');
    expect(state['nixl']).toMatchObject({ engineId: prefill.engineId, sideChannelPort: prefill.kvPort });
    expect((state['nixl'] as { heldRequests: number }).heldRequests).toBeGreaterThan(0);
    await prefill.reset();
    const metrics = await metricsOf(prefill);
    expect(metricValue(metrics, 'vllm:nixl_held_requests')).toBe(0);
    expect(metricValue(metrics, 'vllm:nixl_held_blocks')).toBe(0);
  });
});
