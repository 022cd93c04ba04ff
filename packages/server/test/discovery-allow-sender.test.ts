import { encode } from '@msgpack/msgpack';
import { createMockVllm } from '@pd-router/mock-vllm';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import {
  availableUrls,
  complete,
  discoveryAddress,
  HEALTH_OFF,
  metricValue,
  startDynamicRouter,
  workerUrls,
} from './dynamic-helpers.js';
import { asLogger, CaptureLogger, closeAfterEach, type Router, testConfig, waitFor } from './helpers.js';

const TTL_MS = 5_000;
const PING_MS = 100;
const NOT_ALLOWED = 'pd_router_discovery_rejected_total{source="zmq",reason="not_allowed"}';

const open = closeAfterEach();

/**
 * A vLLM-like heartbeat sender whose connection leaves from a chosen loopback source address
 * (ZeroMQ's `tcp://SOURCE:0;HOST:PORT` connect syntax): Linux routes all of 127/8 to lo, so
 * 127.0.0.1 and 127.0.0.2 are two different senders on one machine.
 */
class SourcedPinger {
  readonly #dealer: zmq.Dealer;
  readonly #timer: NodeJS.Timeout;
  /** Handshakes the router refused (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH on this side). */
  authFailures = 0;

  constructor(proxy: string, source: string | undefined, message: Record<string, unknown>) {
    this.#dealer = new zmq.Dealer({ routingId: `${source ?? 'default'}-sender`, linger: 0, sendTimeout: 0 });
    this.#dealer.events.on('handshake:error:auth', () => {
      this.authFailures += 1;
    });
    this.#dealer.connect(source === undefined ? `tcp://${proxy}` : `tcp://${source}:0;${proxy}`);
    const payload = encode(message);
    const ping = (): void => {
      this.#dealer.send(payload).catch(() => undefined);
    };
    ping();
    this.#timer = setInterval(ping, PING_MS);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#dealer.close();
  }
}

async function allowRouter(allow: string[], log?: CaptureLogger): Promise<Router> {
  const router = await startDynamicRouter(
    testConfig({ discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow }, health: HEALTH_OFF }),
    log === undefined ? {} : { logger: asLogger(log) },
  );
  open.push(router);
  return router;
}

function pinger(router: Router, source: string | undefined, message: Record<string, unknown>): SourcedPinger {
  const p = new SourcedPinger(discoveryAddress(router), source, message);
  open.push(p);
  return p;
}

describe('--discovery-allow checks the sender, not only what it announces', () => {
  it('admits instances registering from 127.0.0.1 under 127.0.0.1/32, and they serve', async () => {
    const router = await allowRouter(['127.0.0.1/32']);
    const proxy = discoveryAddress(router);
    const mocks = await Promise.all(
      (['prefill', 'decode'] as const).map((role) =>
        createMockVllm({ role, kvWaitTimeoutMs: 5_000, proxyAddress: proxy, registerIntervalMs: PING_MS }),
      ),
    );
    open.push(...mocks);
    await waitFor(
      () => workerUrls(router, 'prefill').length === 1 && workerUrls(router, 'decode').length === 1,
      10_000,
      'both mocks to register',
    );
    await waitFor(
      () => availableUrls(router, 'prefill').length === 1 && availableUrls(router, 'decode').length === 1,
      15_000,
      'both mocks to answer their health checks',
    );
    expect((await complete(router)).status).toBe(200);
    expect(await metricValue(router, NOT_ALLOWED)).toBe(0);
  });

  it('refuses a sender outside the list even when it announces allowed addresses; the same message from inside is admitted', async () => {
    const log = new CaptureLogger();
    // Only 127.0.0.2 may register, and only 127.0.0.2 may be announced.
    const router = await allowRouter(['127.0.0.2/32'], log);
    const message = { type: 'D', http_address: '127.0.0.2:8200', zmq_address: '127.0.0.2:8201' };
    // Sender 127.0.0.1 (the default source towards 127.0.0.1), announcing allowed addresses.
    const outsider = pinger(router, undefined, message);
    await expect.poll(() => metricValue(router, NOT_ALLOWED), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await waitFor(() => outsider.authFailures >= 1, 10_000, 'the refused handshake on the sender side');
    // Refused during the handshake: none of its pings is ever delivered (several intervals pass).
    await new Promise((resolve) => setTimeout(resolve, 5 * PING_MS));
    expect(workerUrls(router, 'decode')).toEqual([]);
    const warning = log.entries.find((e) => e.level === 'warn' && e.msg?.includes('(not_allowed)'));
    expect(warning?.msg).toBe(
      'discovery: registration refused (not_allowed): connection from 127.0.0.1 refused: the sender is outside --discovery-allow',
    );
    expect(warning?.fields['peer']).toBe('127.0.0.1');

    // Byte-identical pings from source 127.0.0.2 get in.
    const insider = pinger(router, '127.0.0.2', message);
    await waitFor(
      () => workerUrls(router, 'decode').length === 1,
      10_000,
      'the 127.0.0.2 sender to register',
    );
    expect(workerUrls(router, 'decode')).toEqual(['http://127.0.0.2:8200']);
    expect(router.app.pd.registry.get('decode:http://127.0.0.2:8200')?.source).toBe('discovery');
    expect(insider.authFailures).toBe(0);
  });

  it('still checks the announced addresses of an admitted sender', async () => {
    const router = await allowRouter(['127.0.0.2/32']);
    // Admitted sender, announcing a host outside the list: refused message by message.
    pinger(router, '127.0.0.2', { type: 'P', http_address: '127.0.0.1:8100', zmq_address: '127.0.0.2:8101' });
    await expect.poll(() => metricValue(router, NOT_ALLOWED), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(workerUrls(router, 'prefill')).toEqual([]);
  });
});
