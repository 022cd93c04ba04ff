import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodeServer, createMockCluster, createPrefillServer, type MockVllm } from '../src/index.js';
import { chatBody, completionBody, post, type Reply, send, sseData } from './helpers.js';
import { metricsOf, metricValue } from './nixl-helpers.js';

/** Generous on a starved machine: far above a loopback transfer, far below the suite's timeout. */
const SETTLE_MS = 10_000;

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Leg {
  readonly prefill: MockVllm;
  readonly rank?: number;
  readonly engineId?: string;
  readonly transferId?: string;
  readonly decodeTransferId?: string;
}

/** The Mooncake proxy's two legs for one request, sent at once; resolves with both replies. */
function exchange(
  decode: MockVllm,
  leg: Leg,
  route = '/v1/chat/completions',
  body: Record<string, unknown> = chatBody(),
) {
  const id = randomUUID();
  const transferId = leg.transferId ?? `xfer-${id}`;
  const headers = { 'x-request-id': id };
  const prefillReply = post(
    leg.prefill.url,
    route,
    {
      ...body,
      kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, transfer_id: transferId },
      stream: false,
      max_tokens: 1,
    },
    { ...headers, 'x-data-parallel-rank': String(leg.rank ?? 0) },
  );
  const decodeReply = post(
    decode.url,
    route,
    {
      ...body,
      kv_transfer_params: {
        do_remote_decode: false,
        do_remote_prefill: true,
        remote_bootstrap_addr: `http://127.0.0.1:${leg.prefill.bootstrapPort ?? 0}`,
        remote_engine_id: leg.engineId ?? leg.prefill.engineIds[leg.rank ?? 0],
        transfer_id: leg.decodeTransferId ?? transferId,
      },
    },
    headers,
  );
  return { prefillReply, decodeReply, id };
}

describe('Mooncake bootstrap server', () => {
  let prefill: MockVllm;
  beforeAll(async () => {
    prefill = await createPrefillServer({
      kvConnector: 'mooncake',
      mooncakeDpSize: 2,
      nixlEngineId: 'engine-P1',
    });
  });
  afterAll(() => prefill.close());

  it("answers GET /query with each rank's engine id and worker address, as vLLM's does", async () => {
    const reply = await send(`http://127.0.0.1:${prefill.bootstrapPort}/query`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    const worker = `tcp://127.0.0.1:${prefill.kvPort}`;
    expect(reply.text).toBe(
      `{"0":{"engine_id":"engine-P1","worker_addr":{"0":{"0":"${worker}"}}},` +
        `"1":{"engine_id":"engine-P1_dp1","worker_addr":{"0":{"0":"${worker}"}}}}`,
    );
    expect(prefill.engineIds).toEqual(['engine-P1', 'engine-P1_dp1']);
    expect((await send(`http://127.0.0.1:${prefill.bootstrapPort}/other`)).status).toBe(404);
  });

  it('is down, then empty, then up again under the mooncake-bootstrap-down fault', async () => {
    await prefill.setFaults([{ kind: 'mooncake-bootstrap-down', times: 1 }]);
    const url = `http://127.0.0.1:${prefill.bootstrapPort}/query`;
    await expect(send(url)).rejects.toThrow();
    await prefill.setFaults([{ kind: 'mooncake-bootstrap-down', mode: 'empty', times: 1 }]);
    expect((await send(url)).text).toBe('{}');
    expect(JSON.parse((await send(url)).text)).toHaveProperty('1.engine_id', 'engine-P1_dp1');
  });

  it('refuses an X-data-parallel-rank outside its ranks with a 400, as vLLM does', async () => {
    const reply = await post(prefill.url, '/v1/completions', completionBody(), {
      'x-data-parallel-rank': '2',
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text).error.message).toBe('data_parallel_rank 2 is out of range [0, 2).');
  });
});

describe('Mooncake transfer: the decode pulls the KV from the prefill by transfer_id', () => {
  let prefill: MockVllm;
  let decode: MockVllm;
  let strict: MockVllm;
  beforeAll(async () => {
    prefill = await createPrefillServer({
      kvConnector: 'mooncake',
      mooncakeDpSize: 2,
      mooncakeAbortTimeoutMs: 400,
    });
    decode = await createDecodeServer({ kvConnector: 'mooncake' });
    strict = await createDecodeServer({ kvConnector: 'mooncake', kvMode: 'error' });
  });
  afterAll(() => Promise.all([prefill.close(), decode.close(), strict.close()]));

  const failures = async (mock: MockVllm, reason: string): Promise<number> =>
    metricValue(await metricsOf(mock), 'vllm:mooncake_transfer_failures_total', `reason="${reason}"`);

  it('pulls with matching transfer_id and engine id; the prefill answers kv_transfer_params null', async () => {
    const { prefillReply, decodeReply, id } = exchange(decode, { prefill });
    const [p, d] = await Promise.all([prefillReply, decodeReply]);
    expect(p.status).toBe(200);
    expect(JSON.parse(p.text)).toMatchObject({
      kv_transfer_params: null,
      choices: [{ finish_reason: 'length' }],
    });
    expect(d.status).toBe(200);
    expect(JSON.parse(d.text).choices[0].message.content).toBe(' tok0 tok1 tok2 tok3');
    expect(prefill.received.at(-1)?.mooncake).toEqual({
      path: 'prefill-held',
      rank: 0,
      engineId: prefill.engineIds[0],
      transferId: `xfer-${id}`,
    });
    expect(decode.received.at(-1)?.mooncake).toMatchObject({
      path: 'decode-pulled',
      transferId: `xfer-${id}`,
    });
    expect(metricValue(await metricsOf(decode), 'vllm:mooncake_kv_pulls_total')).toBeGreaterThanOrEqual(1);
  });

  it('pulls whichever leg arrives first: a decode before its prefill waits for the KV', async () => {
    const transferId = `xfer-${randomUUID()}`;
    const params = {
      do_remote_decode: false,
      do_remote_prefill: true,
      remote_bootstrap_addr: `http://127.0.0.1:${prefill.bootstrapPort}`,
      remote_engine_id: prefill.engineIds[0],
      transfer_id: transferId,
    };
    const waitingBefore = decode.waiting;
    const d = post(decode.url, '/v1/completions', completionBody({ kv_transfer_params: params }));
    await until(() => decode.waiting > waitingBefore, 'the decode to wait for its KV');
    const p = await post(prefill.url, '/v1/completions', {
      ...completionBody(),
      kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false, transfer_id: transferId },
      max_tokens: 1,
    });
    expect(p.status).toBe(200);
    expect((await d).status).toBe(200);
    expect(decode.received.at(-1)?.mooncake?.path).toBe('decode-pulled');
  });

  it('streams the decode once the KV is pulled', async () => {
    const { prefillReply, decodeReply } = exchange(decode, { prefill }, '/v1/completions', {
      ...completionBody(),
      stream: true,
    });
    const [, d] = await Promise.all([prefillReply, decodeReply]);
    expect(d.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sseData(d.text).at(-1)).toBe('[DONE]');
  });

  it('fails a wrong transfer_id after the abort timeout; with kvMode error the decode answers 500', async () => {
    const before = await failures(strict, 'transfer_timeout');
    const { prefillReply, decodeReply } = exchange(strict, { prefill, decodeTransferId: 'xfer-wrong' });
    const [p, d] = await Promise.all([prefillReply, decodeReply]);
    expect(p.status).toBe(200);
    expect(d.status).toBe(500);
    expect(JSON.parse(d.text).error.message).toBe('KV transfer xfer-wrong failed: transfer_timeout');
    expect(strict.received.at(-1)?.mooncake).toMatchObject({
      path: 'decode-failed',
      reason: 'transfer_timeout',
    });
    expect(await failures(strict, 'transfer_timeout')).toBe(before + 1);
  });

  it("fails another rank's engine id: the KV is held under the rank the prefill ran on", async () => {
    const { decodeReply } = exchange(strict, { prefill, rank: 1, engineId: prefill.engineIds[0] ?? '' });
    const d = await decodeReply;
    expect(d.status).toBe(500);
    expect(prefill.received.at(-1)?.mooncake).toMatchObject({ path: 'prefill-held', rank: 1 });
    const right = exchange(strict, { prefill, rank: 1 });
    expect((await right.decodeReply).status).toBe(200);
  });

  it('fails an engine id the bootstrap server does not list, at once', async () => {
    const before = await failures(strict, 'engine_not_found');
    const { decodeReply } = exchange(strict, { prefill, engineId: 'no-such-engine' });
    const d = await decodeReply;
    expect(d.status).toBe(500);
    expect(JSON.parse(d.text).error.message).toMatch(/failed: engine_not_found$/);
    expect(await failures(strict, 'engine_not_found')).toBe(before + 1);
  });

  it("by default never answers a failed transfer, as vLLM's decode never finishes it", async () => {
    const waitingBefore = decode.waiting;
    const d = post(
      decode.url,
      '/v1/chat/completions',
      chatBody({
        kv_transfer_params: {
          do_remote_prefill: true,
          remote_bootstrap_addr: `http://127.0.0.1:${prefill.bootstrapPort}`,
          remote_engine_id: 'no-such-engine',
          transfer_id: 'xfer-x',
        },
      }),
    );
    await until(() => decode.received.at(-1)?.mooncake?.path === 'decode-failed', 'the failure');
    expect(decode.waiting).toBe(waitingBefore + 1);
    const settled = await Promise.race([
      d.then((r: Reply) => r.status),
      new Promise((r) => setTimeout(() => r('pending'), 300)),
    ]);
    expect(settled).toBe('pending');
    // Only the client leaving (here: the instance closing) ends such a request.
    await decode.close();
    await expect(d).rejects.toThrow();
    decode = await createDecodeServer({ kvConnector: 'mooncake' });
  });
});

describe('createMockCluster in Mooncake mode', () => {
  it("gives the router vLLM's worker syntax: --prefill URL BOOTSTRAP_PORT, --decode URL", async () => {
    const cluster = await createMockCluster({ prefill: 1, decode: 1, common: { kvConnector: 'mooncake' } });
    try {
      const [p] = cluster.prefills;
      const [d] = cluster.decodes;
      expect(cluster.routerArgs).toEqual(['--prefill', p?.url, String(p?.bootstrapPort), '--decode', d?.url]);
    } finally {
      await cluster.close();
    }
  });
});
