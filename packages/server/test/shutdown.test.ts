import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { e2eKit, gate, jsonAnswer, sleep, startRouter, testConfig, waitFor } from './helpers.js';

const kit = e2eKit();

function rawClient(port: number): { socket: Socket; text: () => string } {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (c: Buffer) => {
    received += c.toString();
  });
  socket.on('error', () => {});
  return { socket, text: () => received };
}

describe('close()', () => {
  it('lets in-flight requests finish and refuses new ones on kept-alive connections with 503 JSON', async () => {
    const p = await kit.worker(jsonAnswer({ prefill: true }));
    const d = await kit.worker();
    const held = gate();
    d.handler = async (_req, res) => {
      await held.opened;
      jsonAnswer({ decode: 'done' })(_req, res, _req as never);
    };
    const router = await startRouter(testConfig({ prefill: [p.spec()], decode: [d.spec()] }));
    let routerRequests = 0;
    router.app.server.on('request', () => {
      routerRequests += 1;
    });
    const port = Number(new URL(router.url).port);
    const body = '{"prompt": "x"}';
    const head = `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;

    const client = rawClient(port);
    client.socket.write(head + body);
    await waitFor(() => d.received.length === 1, 15_000, 'the first decode');

    const closed = router.close();
    await sleep(100);
    // A second request on the same kept-alive connection, sent after the shutdown began. The first
    // is held until the router has read it (on a loaded machine that can take more than a moment).
    client.socket.write(head + body);
    await waitFor(() => routerRequests === 2, 15_000, 'the second request at the router');
    await sleep(100);
    held.open();
    await closed;
    await waitFor(() => client.text().includes('PD_ERR_SHUTTING_DOWN'), 15_000, 'the second answer');
    client.socket.destroy();

    const [first, second] = client.text().split('HTTP/1.1 ').slice(1);
    expect(first?.startsWith('200 ')).toBe(true);
    expect(first).toContain('{"decode":"done"}');
    expect(second?.startsWith('503 ')).toBe(true);
    expect(second?.toLowerCase()).toContain('connection: close');
    expect(second).toContain(
      '{"error":{"message":"the router is shutting down","type":"service_unavailable","param":null,"code":"PD_ERR_SHUTTING_DOWN"}}',
    );
    expect(d.received).toHaveLength(1);
  });
});
