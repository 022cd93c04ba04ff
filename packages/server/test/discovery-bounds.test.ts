import type { ServerResponse } from 'node:http';
import { encode } from '@msgpack/msgpack';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import {
  availableUrls,
  complete,
  discoveryAddress,
  HEALTH_OFF,
  metricValue,
  Pinger,
  startDynamicRouter,
  workerUrls,
} from './dynamic-helpers.js';
import {
  asLogger,
  CaptureLogger,
  closeAfterEach,
  type FakeRequest,
  jsonAnswer,
  type Router,
  startFakeWorker,
  testConfig,
  waitFor,
} from './helpers.js';

const open = closeAfterEach();
const TTL_MS = 5_000;

async function discoveringRouter(
  overrides: Parameters<typeof testConfig>[0] = {},
  log?: CaptureLogger,
): Promise<Router> {
  const router = await startDynamicRouter(
    testConfig({
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: [] },
      health: HEALTH_OFF,
      ...overrides,
    }),
    log === undefined ? {} : { logger: asLogger(log) },
  );
  open.push(router);
  return router;
}

/** Sends `messages` from one DEALER (one sender) as fast as it can, then closes it. */
async function flood(proxy: string, messages: readonly Uint8Array[], routingId: string): Promise<void> {
  const dealer = new zmq.Dealer({ routingId, linger: 2_000, sendHighWaterMark: 0 });
  dealer.connect(`tcp://${proxy}`);
  for (const m of messages) await dealer.send(m);
  dealer.close();
}

function decodeAt(port: number): Uint8Array {
  return encode({ type: 'D', http_address: `127.0.0.1:${port}`, zmq_address: `127.0.0.1:${port + 1}` });
}

const REJECTED = (reason: string) => `pd_router_discovery_rejected_total{source="zmq",reason="${reason}"}`;

describe('discovery is bounded', () => {
  it('a discovered worker takes traffic only once it has answered its health check', async () => {
    const router = await discoveringRouter();
    const proxy = discoveryAddress(router);
    const p = await startFakeWorker(jsonAnswer({ ok: true }));
    let healthy = false;
    const d = await startFakeWorker((req: FakeRequest, res: ServerResponse) => {
      if (req.url === '/health') res.writeHead(healthy ? 200 : 503).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"text":"d"}]}');
    });
    open.push(p, d);
    const pingers = [
      new Pinger(proxy, { type: 'P', http_address: p.hostHeader, zmq_address: '127.0.0.1:1' }, 100, 'p'),
      new Pinger(proxy, { type: 'D', http_address: d.hostHeader, zmq_address: '127.0.0.1:2' }, 100, 'd'),
    ];
    open.push(...pingers);
    await waitFor(() => availableUrls(router, 'prefill').length === 1, 15_000, 'the prefill to be admitted');
    await waitFor(
      () => d.received.filter((r) => r.url === '/health').length >= 2,
      15_000,
      'two failed checks of the decode',
    );
    expect(workerUrls(router, 'decode')).toEqual([d.url]);
    expect(availableUrls(router, 'decode')).toEqual([]);
    expect(router.app.pd.registry.get(`decode:${d.url}`)?.health.pending).toBe(true);
    expect((await complete(router)).status).toBe(503);
    expect(d.received.filter((r) => r.url === '/v1/completions')).toHaveLength(0);
    healthy = true;
    await waitFor(() => availableUrls(router, 'decode').length === 1, 15_000, 'the decode to be admitted');
    expect((await complete(router)).status).toBe(200);
    expect(d.received.filter((r) => r.url === '/v1/completions')).toHaveLength(1);
  });

  it('rate-limits each sender, counting what it drops', async () => {
    const router = await discoveringRouter({
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: [], ratePerSender: 5 },
    });
    const proxy = discoveryAddress(router);
    // 200 registrations of distinct workers from one sender, at once: a burst of 5 gets through.
    await flood(
      proxy,
      Array.from({ length: 200 }, (_, i) => decodeAt(40_000 + 2 * i)),
      'flooder',
    );
    // The burst of 5, plus 5 a second while the flood is read (a second or so; 20 on a starved machine).
    await expect
      .poll(() => metricValue(router, REJECTED('rate_limited')), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(100);
    const registered = workerUrls(router, 'decode').length;
    expect(registered).toBeGreaterThanOrEqual(5);
    expect((await metricValue(router, REJECTED('rate_limited'))) + registered).toBe(200);
  });

  it('caps the discovered workers (--discovery-max-workers), counting refusals', async () => {
    const log = new CaptureLogger();
    const router = await discoveringRouter({ discoveryMaxWorkers: 3 }, log);
    const proxy = discoveryAddress(router);
    // One sender per worker (each within its rate), as real instances.
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => flood(proxy, [decodeAt(41_000 + 2 * i)], `instance-${i}`)),
    );
    await expect.poll(() => metricValue(router, REJECTED('max_workers')), { timeout: 15_000 }).toBe(2);
    expect(workerUrls(router, 'decode')).toHaveLength(3);
    expect(log.entries.some((e) => e.level === 'warn' && e.msg?.includes('(max_workers)'))).toBe(true);
  });

  it('without --discovery-allow: a loud start-up warning, a line in /workers, and only private or loopback addresses', async () => {
    const log = new CaptureLogger();
    const router = await discoveringRouter({}, log);
    const proxy = discoveryAddress(router);
    const warning = log.entries.find((e) => e.level === 'warn' && e.msg?.startsWith('SECURITY: '));
    expect(warning?.msg).toContain(`ZMQ registration on tcp://${proxy} runs without --discovery-allow`);
    const res = await request(`${router.url}/workers`);
    const body = (await res.body.json()) as { warnings: string[] };
    expect(body.warnings).toHaveLength(1);
    expect(body.warnings[0]).toContain('runs without --discovery-allow');
    expect(body.warnings[0]).toContain(
      '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8',
    );
    // A loopback sender announcing a public address is refused by the default ranges.
    await flood(
      proxy,
      [encode({ type: 'D', http_address: '8.8.8.8:8000', zmq_address: '8.8.8.8:8001' })],
      'x',
    );
    await expect.poll(() => metricValue(router, REJECTED('not_allowed')), { timeout: 15_000 }).toBe(1);
    expect(workerUrls(router, 'decode')).toEqual([]);
  });

  it('with an explicit --discovery-allow: no warning; 0.0.0.0/0 warns that anyone may register', async () => {
    const quiet = await discoveringRouter({
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: ['127.0.0.0/8'] },
    });
    const res = await request(`${quiet.url}/workers`);
    expect(((await res.body.json()) as { warnings: string[] }).warnings).toEqual([]);
    const log = new CaptureLogger();
    await discoveringRouter(
      { discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: ['0.0.0.0/0'] } },
      log,
    );
    expect(log.entries.some((e) => e.level === 'warn' && e.msg?.includes('admits any IPv4 sender'))).toBe(
      true,
    );
  });
});
