import { decode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { createDecodeServer, createMockVllm, createPrefillServer } from '../src/index.js';

async function receiveOne(router: zmq.Router): Promise<{ identity: string; message: unknown }> {
  const [identity, payload] = await router.receive();
  return { identity: String(identity), message: decode(payload ?? new Uint8Array()) };
}

describe('registration with a P2P NCCL proxy (ZMQ ROUTER, msgpack heartbeats)', () => {
  it('pings now and then every interval, from a DEALER whose routing id is the KV address', async () => {
    const router = new zmq.Router({ linger: 0, receiveTimeout: 10_000 });
    await router.bind('tcp://127.0.0.1:*');
    const proxy = (router.lastEndpoint ?? '').replace('tcp://', '');
    const prefill = await createPrefillServer({ proxyAddress: proxy, registerIntervalMs: 100 });
    const decodeServer = await createDecodeServer({ proxyAddress: proxy, registerIntervalMs: 100 });
    try {
      const seen = new Map<string, unknown[]>();
      while (
        (seen.get(prefill.kvAddress)?.length ?? 0) < 2 ||
        (seen.get(decodeServer.kvAddress)?.length ?? 0) < 2
      ) {
        const { identity, message } = await receiveOne(router);
        seen.set(identity, [...(seen.get(identity) ?? []), message]);
      }
      expect(seen.get(prefill.kvAddress)?.[0]).toEqual({
        type: 'P',
        http_address: prefill.url.replace('http://', ''),
        zmq_address: prefill.kvAddress,
      });
      expect(seen.get(decodeServer.kvAddress)?.[1]).toEqual({
        type: 'D',
        http_address: decodeServer.url.replace('http://', ''),
        zmq_address: decodeServer.kvAddress,
      });
      expect(Object.keys(seen.get(prefill.kvAddress)?.[0] as object)).toEqual([
        'type',
        'http_address',
        'zmq_address',
      ]);
    } finally {
      await Promise.all([prefill.close(), decodeServer.close()]);
      router.close();
    }
  });

  it('stops pinging once closed (no deregistration message exists)', async () => {
    const router = new zmq.Router({ linger: 0, receiveTimeout: 400 });
    await router.bind('tcp://127.0.0.1:*');
    const proxy = (router.lastEndpoint ?? '').replace('tcp://', '');
    const prefill = await createPrefillServer({ proxyAddress: proxy, registerIntervalMs: 50 });
    try {
      await receiveOne(router);
      await prefill.close();
      // Drain what was already in flight, then nothing more arrives.
      let quiet = false;
      for (let i = 0; i < 20 && !quiet; i += 1) {
        quiet = await receiveOne(router).then(
          () => false,
          () => true,
        );
      }
      expect(quiet).toBe(true);
    } finally {
      await prefill.close();
      router.close();
    }
  });

  it("refuses registration for a 'both' instance and bad proxy addresses", async () => {
    await expect(createMockVllm({ role: 'both', proxyAddress: '127.0.0.1:1' })).rejects.toMatchObject({
      code: 'PD_ERR_MOCK_OPTION_INVALID',
    });
    await expect(createMockVllm({ role: 'prefill', proxyAddress: 'no-port' })).rejects.toMatchObject({
      code: 'PD_ERR_MOCK_OPTION_INVALID',
    });
  });
});
