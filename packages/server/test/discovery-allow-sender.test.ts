import { createMockVllm } from '@pd-router/mock-vllm';
import { describe, expect, it } from 'vitest';
import {
  complete,
  discoveryAddress,
  HEALTH_OFF,
  metricValue,
  Pinger,
  startDynamicRouter,
  untilPairAdmitted,
  workerUrls,
} from './dynamic-helpers.js';
import { asLogger, CaptureLogger, closeAfterEach, type Router, testConfig, waitFor } from './helpers.js';

const TTL_MS = 5_000;
const PING_MS = 100;
const NOT_ALLOWED = 'pd_router_discovery_rejected_total{source="zmq",reason="not_allowed"}';

const open = closeAfterEach();

async function allowRouter(allow: string[], log?: CaptureLogger): Promise<Router> {
  const router = await startDynamicRouter(
    testConfig({ discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow }, health: HEALTH_OFF }),
    log === undefined ? {} : { logger: asLogger(log) },
  );
  open.push(router);
  return router;
}

function pinger(router: Router, source: string | undefined, message: Record<string, unknown>): Pinger {
  const p = new Pinger(discoveryAddress(router), message, PING_MS, `${source ?? 'default'}-sender`, source);
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
    await untilPairAdmitted(router);
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
