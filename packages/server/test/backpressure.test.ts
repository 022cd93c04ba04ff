import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { e2eKit, sleep, waitFor } from './helpers.js';

const kit = e2eKit();

const EVENT = `data: ${'x'.repeat(65_536 - 8)}\n\n`;
const EVENTS = 3_072; // 192 MiB: far more than every socket buffer on the way can hold
const TOTAL = EVENT.length * EVENTS;

describe('a slow streaming client', () => {
  it('pauses the decode instead of buffering its answer (bounded memory), then receives every byte', async () => {
    const { d, router } = await kit.pair({ streamIdleTimeoutMs: 30_000 });
    let written = 0;
    let blocked = 0;
    d.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < EVENTS && !res.destroyed; i++) {
        written += EVENT.length;
        if (!res.write(EVENT)) {
          blocked += 1;
          await new Promise((resolve) => res.once('drain', resolve));
        }
      }
      res.end();
    };

    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${router.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.pause(); // the client reads nothing for now
        resolve(res);
      });
      req.on('error', reject);
      req.end('{"prompt": "hi", "stream": true}');
    });
    expect(response.statusCode).toBe(200);

    // The decode fills the socket buffers, then its writes block and it stops.
    await waitFor(() => blocked > 0, 20_000, 'the decode writes to block');
    // Stopped means nothing written for 250 ms: loopback socket buffers can still grow in a step
    // or two (a delayed-ACK round, ~40 ms) after the first stall, with nothing held by the router.
    // And over 25 polls in a row, each an event-loop turn that runs pending I/O: after a stall of
    // this process, timers run before I/O, so elapsed time alone could declare a moving pipeline still.
    let last = -1;
    let unchangedSince = performance.now();
    let unchangedPolls = 0;
    await waitFor(
      () => {
        if (written !== last) {
          last = written;
          unchangedSince = performance.now();
          unchangedPolls = 0;
          return false;
        }
        unchangedPolls += 1;
        return unchangedPolls >= 25 && performance.now() - unchangedSince >= 250;
      },
      20_000,
      'the decode to stop writing',
    );
    await sleep(300);
    expect(written).toBe(last);
    expect(written).toBeLessThan(TOTAL / 2);
    // The router itself holds at most a socket's worth, not the stream.
    const registryWorkers = router.app.pd.registry.list();
    expect(registryWorkers.find((w) => w.role === 'decode')?.inFlight).toBe(1);

    // Reading resumes the whole pipeline and every byte arrives.
    let received = 0;
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    response.resume();
    await new Promise((resolve) => response.on('end', resolve));
    expect(received).toBe(TOTAL);
    expect(written).toBe(TOTAL);
  }, 60_000);
});

describe('a client that stops reading altogether', () => {
  it('is dropped after streamIdleTimeoutMs of backpressure (not counted as an idle decode), and the decode call is closed', async () => {
    const { d, router } = await kit.pair({ streamIdleTimeoutMs: 500 });
    d.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < EVENTS && !res.destroyed; i++) {
        if (!res.write(EVENT)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    };
    const req = httpRequest(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.pause();
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end('{"prompt": "hi", "stream": true}');
    await waitFor(() => d.aborted.length === 1, 20_000, 'the decode to be closed');
    await waitFor(
      () => router.app.pd.registry.list().every((w) => w.inFlight === 0),
      15_000,
      'in-flight back to 0',
    );
    req.destroy();
    // The decode was silent only because we paused it: the client's fault, not an idle worker.
    const metrics = await (await request(`${router.url}/metrics`)).body.text();
    expect(metrics).not.toMatch(/pd_router_upstream_errors_total\{[^}]*kind="stream_idle"\} [1-9]/);
  }, 30_000);
});
