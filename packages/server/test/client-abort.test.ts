import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { e2eKit, jsonAnswer, type Router, SEED_COMPLETIONS_BODY, sleep, waitFor } from './helpers.js';

const kit = e2eKit();

const setup = () => kit.pair();

/** Starts a completion with node:http so the test can drop the connection whenever it likes. */
function startClient(router: Router, body = SEED_COMPLETIONS_BODY) {
  const chunks: string[] = [];
  const req = httpRequest(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  req.on('error', () => {});
  req.on('response', (res) => {
    res.on('data', (c: Buffer) => chunks.push(c.toString()));
    res.on('error', () => {});
  });
  req.end(body);
  return { chunks, abort: () => req.destroy() };
}

async function expectSettled(router: Router, phase: string): Promise<void> {
  const registry = router.app.pd.registry;
  await waitFor(() => registry.list().every((w) => w.inFlight === 0), 15_000, 'in-flight counters back to 0');
  const res = await request(`${router.url}/metrics`);
  expect(await res.body.text()).toContain(`pd_router_client_aborts_total{phase="${phase}"} 1`);
}

describe('a client that disconnects aborts the upstream call in flight', () => {
  it('during the prefill: the prefill sees the abort and no decode follows, even once it would have answered', async () => {
    const { p, d, router } = await setup();
    // Answers 2 s after the request came in, unless the call was cut by then: far more than the
    // router needs to see the client leave, even with the event-loop stalls of a loaded machine.
    let answerTried = false;
    p.handler = async (_req, res) => {
      await sleep(2_000);
      answerTried = true;
      if (!res.destroyed) jsonAnswer({ prefill: true })(_req, res, _req as never);
    };
    const client = startClient(router);
    await waitFor(() => p.received.length === 1, 15_000, 'the prefill request');
    client.abort();
    await waitFor(() => p.aborted.length === 1, 15_000, 'the prefill to see the abort');
    await waitFor(() => answerTried, 15_000, 'the time the prefill would have answered');
    await sleep(300);
    expect(d.received).toHaveLength(0);
    await expectSettled(router, 'prefill');
  });

  it('while waiting for the decode answer: the decode sees the abort', async () => {
    const { d, router } = await setup();
    d.handler = () => {};
    const client = startClient(router);
    await waitFor(() => d.received.length === 1, 15_000, 'the decode request');
    client.abort();
    await waitFor(() => d.aborted.length === 1, 15_000, 'the decode to see the abort');
    await expectSettled(router, 'decode_wait');
  });

  it('mid-stream: the decode stream is cut', async () => {
    const { d, router } = await setup();
    d.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: {"tok": "x"}\n\n'), 20);
      res.on('close', () => clearInterval(timer));
    };
    const client = startClient(router, '{"prompt": "hi", "stream": true}');
    await waitFor(() => client.chunks.length > 0, 15_000, 'the first event');
    client.abort();
    await waitFor(() => d.aborted.length === 1, 15_000, 'the decode to see the close');
    await expectSettled(router, 'stream');
  });
});
