import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodeServer, createPrefillServer, type MockVllm } from '../src/index.js';
import { sseData } from './helpers.js';
import {
  blockIdsOf,
  decodeLeg,
  lastReceived,
  longChat,
  longCompletion,
  metricsOf,
  metricValue,
  type Params,
  prefillLeg,
} from './nixl-helpers.js';

let prefill: MockVllm;
let decode: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer({ kvConnector: 'nixl' });
  decode = await createDecodeServer({ kvConnector: 'nixl' });
});
afterAll(async () => {
  await Promise.all([prefill.close(), decode.close()]);
});

const recomputes = async (reason: string): Promise<number> =>
  metricValue(await metricsOf(decode), 'vllm:nixl_recomputes_total', `reason="${reason}"`);

/** Runs a decode and returns how the recompute counter for `reason` moved, with the decode's reply. */
async function decodeCounting(
  reason: string,
  route: string,
  body: Record<string, unknown>,
  params: Params | null,
) {
  const before = await recomputes(reason);
  const reply = await decodeLeg(decode, route, body, params);
  return { reply, delta: (await recomputes(reason)) - before, nixl: lastReceived(decode).nixl };
}

describe('NIXL transfer: decode reads the blocks from the prefill over ZeroMQ', () => {
  it('reads with the right params, generates, frees the blocks, and recomputes nothing', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    const heldBefore = metricValue(await metricsOf(prefill), 'vllm:nixl_held_requests');
    const readsBefore = metricValue(await metricsOf(decode), 'vllm:nixl_kv_reads_total');
    const d = await decodeLeg(decode, '/v1/completions', longCompletion(), params);
    expect(d.status).toBe(200);
    expect(JSON.parse(d.text)).toMatchObject({
      choices: [{ text: ' tok0 tok1 tok2' }],
      kv_transfer_params: null,
    });
    expect(lastReceived(decode).nixl).toEqual({
      path: 'decode-read',
      remoteRequestId: params?.['remote_request_id'],
      blockIds: params?.['remote_block_ids'],
    });
    const dm = await metricsOf(decode);
    expect(metricValue(dm, 'vllm:nixl_kv_reads_total')).toBe(readsBefore + 1);
    for (const line of dm.split('\n').filter((l) => l.startsWith('vllm:nixl_recomputes_total{'))) {
      expect(line.endsWith(' 0.0'), line).toBe(true);
    }
    const pm = await metricsOf(prefill);
    expect(metricValue(pm, 'vllm:nixl_held_requests')).toBe(heldBefore - 1);
    expect(metricValue(pm, 'vllm:nixl_reads_served_total', 'result="ok"')).toBeGreaterThanOrEqual(1);
  });

  it('streams a chat decode after a successful read', async () => {
    const { params } = await prefillLeg(prefill, '/v1/chat/completions', longChat());
    const d = await decodeLeg(decode, '/v1/chat/completions', longChat({ stream: true }), params);
    expect(d.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sseData(d.text).at(-1)).toBe('[DONE]');
    expect(lastReceived(decode).nixl?.path).toBe('decode-read');
  });

  it('a second read of the same blocks finds nothing: recompute (read_not_found)', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect((await decodeLeg(decode, '/v1/completions', longCompletion(), params)).status).toBe(200);
    const again = await decodeCounting('read_not_found', '/v1/completions', longCompletion(), params);
    expect(again.reply.status).toBe(200);
    expect(again.delta).toBe(1);
    expect(again.nixl).toMatchObject({ path: 'decode-recompute', reason: 'read_not_found' });
  });

  it('missing params: the decode recomputes, counted and recorded', async () => {
    const r = await decodeCounting('missing_params', '/v1/completions', longCompletion(), null);
    expect(r.reply.status).toBe(200);
    expect(JSON.parse(r.reply.text).choices[0].text).toBe(' tok0 tok1 tok2');
    expect(r.delta).toBe(1);
    expect(r.nixl).toEqual({ path: 'decode-recompute', reason: 'missing_params' });
  });

  it('invalid params (no remote_engine_id, fault nixl-bad-params): recompute (invalid_params)', async () => {
    await prefill.setFaults({ kind: 'nixl-bad-params', times: 1 });
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect(params).not.toHaveProperty('remote_engine_id');
    const r = await decodeCounting('invalid_params', '/v1/completions', longCompletion(), params);
    expect(r.reply.status).toBe(200);
    expect(r.delta).toBe(1);
    expect(r.nixl).toEqual({ path: 'decode-recompute', reason: 'invalid_params' });
  });

  it('a foreign engine id: the prefill refuses the read, the decode recomputes (read_engine_mismatch)', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    const foreign = { ...params, remote_engine_id: '00000000-0000-4000-8000-000000000000' };
    const r = await decodeCounting('read_engine_mismatch', '/v1/completions', longCompletion(), foreign);
    expect(r.reply.status).toBe(200);
    expect(r.delta).toBe(1);
    expect(r.nixl).toMatchObject({ path: 'decode-recompute', reason: 'read_engine_mismatch' });
    // The blocks were not freed by the refused read: the right engine id still reads them.
    expect((await decodeLeg(decode, '/v1/completions', longCompletion(), params)).status).toBe(200);
    expect(lastReceived(decode).nixl?.path).toBe('decode-read');
  });

  it('altered block ids: recompute (read_block_mismatch)', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    const altered = { ...params, remote_block_ids: [999_999] };
    const r = await decodeCounting('read_block_mismatch', '/v1/completions', longCompletion(), altered);
    expect(r.delta).toBe(1);
  });

  it('resolves remote_host "localhost" to 127.0.0.1 (the default answer) and reads', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect(params?.['remote_host']).toBe('localhost');
    await decodeLeg(decode, '/v1/completions', longCompletion(), params);
    expect(lastReceived(decode).nixl?.path).toBe('decode-read');
    const explicit = await prefillLeg(prefill, '/v1/completions', longCompletion());
    await decodeLeg(decode, '/v1/completions', longCompletion(), {
      ...explicit.params,
      remote_host: '127.0.0.1',
    });
    expect(lastReceived(decode).nixl?.path).toBe('decode-read');
  });

  it('never connects off the machine: a non-loopback remote_host is a failed read', async () => {
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    for (const host of ['10.1.2.3', 'prefill.example.com']) {
      const r = await decodeCounting('remote_host_not_loopback', '/v1/completions', longCompletion(), {
        ...params,
        remote_host: host,
      });
      expect(r.reply.status).toBe(200);
      expect(r.delta).toBe(1);
    }
  });

  it('a side-channel port nobody answers on: recompute after the read timeout (read_timeout)', async () => {
    const impatient = await createDecodeServer({ kvConnector: 'nixl', nixlReadTimeoutMs: 300 });
    // A port that stays bound for the whole test (a closed one could be taken by another process)
    // and accepts but never speaks ZMTP, as a hung side channel does.
    const accepted = new Set<Socket>();
    const idle = createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => idle.listen(0, '127.0.0.1', resolve));
    const idlePort = (idle.address() as AddressInfo).port;
    try {
      const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
      const d = await decodeLeg(impatient, '/v1/completions', longCompletion(), {
        ...params,
        remote_port: idlePort,
      });
      expect(d.status).toBe(200);
      expect(lastReceived(impatient).nixl).toMatchObject({
        path: 'decode-recompute',
        reason: 'read_timeout',
      });
      const m = await metricsOf(impatient);
      expect(metricValue(m, 'vllm:nixl_recomputes_total', 'reason="read_timeout"')).toBe(1);
    } finally {
      await impatient.close();
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => idle.close(resolve));
    }
  });

  it('fault nixl-refuse-reads: the read is refused, the decode recomputes, the blocks stay held', async () => {
    await prefill.setFaults({ kind: 'nixl-refuse-reads', times: 1 });
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    const r = await decodeCounting('read_refused', '/v1/completions', longCompletion(), params);
    expect(r.delta).toBe(1);
    expect(r.nixl).toMatchObject({ reason: 'read_refused' });
    expect(metricValue(await metricsOf(prefill), 'vllm:nixl_reads_served_total', 'result="refused"')).toBe(1);
    await decodeLeg(decode, '/v1/completions', longCompletion(), params);
    expect(lastReceived(decode).nixl?.path).toBe('decode-read');
  });

  it('fault kv-never-arrives: the prefill answers params but drops the blocks (read_not_found)', async () => {
    await prefill.setFaults({ kind: 'kv-never-arrives', times: 1 });
    const { params } = await prefillLeg(prefill, '/v1/completions', longCompletion());
    expect(lastReceived(prefill).nixl?.path).toBe('prefill-not-held');
    const r = await decodeCounting('read_not_found', '/v1/completions', longCompletion(), params);
    expect(r.delta).toBe(1);
  });

  it('empty remote_block_ids (short prompt): a local prefill, not a recompute', async () => {
    const short = { model: 'mock-model', prompt: 'Hi', max_tokens: 2 };
    const { params } = await prefillLeg(prefill, '/v1/completions', short);
    expect(params?.['remote_block_ids']).toEqual([]);
    const d = await decodeLeg(decode, '/v1/completions', short, params);
    expect(d.status).toBe(200);
    expect(lastReceived(decode).nixl).toEqual({ path: 'decode-no-blocks' });
  });

  it('works with request-id randomization: remote_request_id carries the internal id', async () => {
    const p = await createPrefillServer({ kvConnector: 'nixl', requestIdRandomization: true });
    try {
      const { params, id } = await prefillLeg(p, '/v1/completions', longCompletion());
      expect(params?.['remote_request_id']).toMatch(new RegExp(`^cmpl-${id}-0-[0-9a-f]{8}$`));
      await decodeLeg(decode, '/v1/completions', longCompletion(), params);
      expect(lastReceived(decode).nixl?.path).toBe('decode-read');
    } finally {
      await p.close();
    }
  });
});

describe('NIXL block expiry', () => {
  it('expires unread blocks after nixlBlockTtlMs: counted, and a late decode recomputes (read_expired)', async () => {
    const p = await createPrefillServer({ kvConnector: 'nixl', nixlBlockTtlMs: 150 });
    try {
      const { params } = await prefillLeg(p, '/v1/completions', longCompletion());
      const blocks = blockIdsOf(params).length;
      expect(metricValue(await metricsOf(p), 'vllm:nixl_held_blocks')).toBe(blocks);
      // The timer frees them while idle; poll instead of sleeping a fixed time (a loaded CI machine).
      const deadline = Date.now() + 10_000;
      while (metricValue(await metricsOf(p), 'vllm:nixl_held_requests') !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const m = await metricsOf(p);
      expect(metricValue(m, 'vllm:nixl_held_blocks')).toBe(0);
      expect(metricValue(m, 'vllm:nixl_expired_requests_total')).toBe(1);
      expect(metricValue(m, 'vllm:nixl_expired_blocks_total')).toBe(blocks);
      const r = await decodeCounting('read_expired', '/v1/completions', longCompletion(), params);
      expect(r.reply.status).toBe(200);
      expect(r.delta).toBe(1);
      expect(r.nixl).toMatchObject({ path: 'decode-recompute', reason: 'read_expired' });
    } finally {
      await p.close();
    }
  });
});
