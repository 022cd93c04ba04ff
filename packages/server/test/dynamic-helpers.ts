import type { AddressInfo } from 'node:net';
import { encode } from '@msgpack/msgpack';
import { request } from 'undici';
import { expect } from 'vitest';
import * as zmq from 'zeromq';
import { type BuildServerDeps, buildServer } from '../src/app.js';
import type { Config, HealthConfig } from '../src/config/types.js';
import { type Router, waitFor } from './helpers.js';

/** Health checks and circuit breaker off: tests turn on what they exercise. */
export const HEALTH_OFF: HealthConfig = {
  checkIntervalMs: 0,
  checkTimeoutMs: 1_000,
  failureThreshold: 3,
  successThreshold: 2,
  circuitFailureThreshold: 0,
  circuitOpenMs: 1_000,
};

/** buildServer (which starts discovery, health checks and the admin API) + listen on 127.0.0.1:0. */
export async function startDynamicRouter(config: Config, deps: BuildServerDeps = {}): Promise<Router> {
  const app = await buildServer(config, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** The registration address of a router started with `discovery`. */
export function discoveryAddress(router: Router): string {
  const address = router.app.dynamicWorkers.zmq?.address;
  if (address === undefined) throw new Error('the router has no ZMQ registration');
  return address;
}

/** The URLs of a role's workers that take requests now. */
export function availableUrls(router: Router, role: 'prefill' | 'decode'): string[] {
  return router.app.pd.registry.available(role).map((w) => w.url);
}

/** Every worker's URL of a role (available or not). */
export function workerUrls(router: Router, role: 'prefill' | 'decode'): string[] {
  return router.app.pd.registry
    .list()
    .filter((w) => w.role === role)
    .map((w) => w.url);
}

/**
 * A heartbeat sender like vLLM's P2pNcclEngine.ping, under the test's control: a DEALER whose
 * routing id is the ZMQ address, sending the msgpack map every `intervalMs` until stopped. With
 * `source`, its connection leaves from that loopback address (ZeroMQ's `tcp://SOURCE:0;HOST:PORT`
 * connect syntax): Linux routes all of 127/8 to lo, so 127.0.0.1 and 127.0.0.2 are two senders.
 */
export class Pinger {
  readonly #dealer: zmq.Dealer;
  readonly #timer: NodeJS.Timeout;
  /** Handshakes the router refused (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH on this side). */
  authFailures = 0;

  constructor(
    proxy: string,
    message: Record<string, unknown>,
    intervalMs: number,
    routingId = 'pinger',
    source?: string,
  ) {
    this.#dealer = new zmq.Dealer({ routingId, linger: 0, sendTimeout: 0 });
    this.#dealer.events.on('handshake:error:auth', () => {
      this.authFailures += 1;
    });
    this.#dealer.connect(source === undefined ? `tcp://${proxy}` : `tcp://${source}:0;${proxy}`);
    const payload = encode(message);
    const ping = (): void => {
      this.#dealer.send(payload).catch(() => undefined);
    };
    ping();
    this.#timer = setInterval(ping, intervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#dealer.close();
  }
}

/** Waits until one prefill and one decode are registered, then until both take requests (health checked). */
export async function untilPairAdmitted(router: Router, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    () => workerUrls(router, 'prefill').length === 1 && workerUrls(router, 'decode').length === 1,
    timeoutMs,
    'a prefill and a decode to register',
  );
  // Discovered workers take traffic once they have answered a health check.
  await waitFor(
    () => availableUrls(router, 'prefill').length === 1 && availableUrls(router, 'decode').length === 1,
    timeoutMs,
    'both to answer their health checks',
  );
}

/** Starts a slow streaming completion of `maxTokens`; resolves once its first bytes are in, with a promise of the whole text. */
export async function slowStream(
  router: Router,
  maxTokens: number,
): Promise<{ readonly text: Promise<string> }> {
  const res = await request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-model', prompt: 'slow', max_tokens: maxTokens, stream: true }),
  });
  expect(res.statusCode).toBe(200);
  const chunks: string[] = [];
  const done = (async () => {
    for await (const chunk of res.body) chunks.push(Buffer.from(chunk as Uint8Array).toString('utf8'));
    return chunks.join('');
  })();
  await waitFor(() => chunks.length > 0, 15_000, 'the first event');
  // Wrapped: an async function returning a promise would wait for it.
  return { text: done };
}

/** Sends raw multipart messages to the ROUTER (junk, unknown types...) and closes. */
export async function sendRaw(
  proxy: string,
  messages: readonly (readonly (Uint8Array | string)[])[],
): Promise<void> {
  const dealer = new zmq.Dealer({ routingId: 'junk', linger: 2_000 });
  dealer.connect(`tcp://${proxy}`);
  for (const frames of messages) await dealer.send([...frames]);
  // linger lets the queued messages go out before the socket closes.
  dealer.close();
}

/** A counter's value in the router's /metrics text (0 when absent). */
export async function metricValue(router: Router, series: string): Promise<number> {
  const res = await request(`${router.url}/metrics`);
  const text = await res.body.text();
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

/** POST a small completions request; resolves with the status and body text. */
export async function complete(
  router: Router,
  body: Record<string, unknown> = { model: 'mock-model', prompt: 'hi', max_tokens: 3 },
): Promise<{ status: number; text: string }> {
  const res = await request(`${router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, text: await res.body.text() };
}
