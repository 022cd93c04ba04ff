import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startRouter, testConfig } from './helpers.js';

describe('shutdown', () => {
  it('drops a connection that never sent a request instead of waiting for its headers timeout', async () => {
    const router = await startRouter(
      testConfig({ prefill: ['http://127.0.0.1:1:zmq://127.0.0.1:21001'], decode: ['http://127.0.0.1:1'] }),
    );
    const port = Number(new URL(router.url).port);
    const socket: Socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const closed = once(socket, 'close');
    const started = Date.now();
    await router.close();
    await closed;
    // Node's headers timeout is 60 s; the silent connection is dropped at once instead.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(socket.destroyed).toBe(true);
  });
});
