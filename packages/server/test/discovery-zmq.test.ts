import { encode } from '@msgpack/msgpack';
import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  complete,
  discoveryAddress,
  HEALTH_OFF,
  metricValue,
  Pinger,
  sendRaw,
  startDynamicRouter,
  untilPairAdmitted,
  workerUrls,
} from './dynamic-helpers.js';
import { asLogger, CaptureLogger, closeAfterEach, type Router, testConfig, waitFor } from './helpers.js';

/**
 * Live workers ping every 100 ms; a TTL 20 times that keeps them registered through the event-loop
 * stalls of a loaded machine (the sweep timer can run before a waiting ping is read).
 */
const TTL_MS = 2_000;
const PING_MS = 100;
/** The sweep runs TTL/5 apart, so an entry leaves at most TTL/5 late; plus slack for a loaded machine. */
const EXPIRY_BOUND_MS = TTL_MS + TTL_MS / 5 + 3_000;

const open = closeAfterEach();

async function discoveringRouter(overrides: Parameters<typeof testConfig>[0] = {}): Promise<Router> {
  const router = await startDynamicRouter(
    testConfig({
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: [] },
      health: HEALTH_OFF,
      ...overrides,
    }),
  );
  open.push(router);
  return router;
}

async function mock(role: 'prefill' | 'decode', proxy: string | undefined, extra = {}): Promise<MockVllm> {
  const m = await createMockVllm({
    role,
    kvWaitTimeoutMs: 5_000,
    ...(proxy === undefined ? {} : { proxyAddress: proxy, registerIntervalMs: PING_MS }),
    ...extra,
  });
  open.push(m);
  return m;
}

async function health(router: Router): Promise<number> {
  const res = await request(`${router.url}/health`);
  await res.body.dump();
  return res.statusCode;
}

describe('ZMQ registration (--vllm-discovery-address)', () => {
  it('works alone: empty pools (503) until instances register, then serves requests end to end', async () => {
    const router = await discoveringRouter();
    expect(await health(router)).toBe(503);
    expect((await complete(router)).status).toBe(503);
    const proxy = discoveryAddress(router);
    const p = await mock('prefill', proxy);
    const d = await mock('decode', proxy);
    await untilPairAdmitted(router);
    expect(await health(router)).toBe(200);
    const worker = router.app.pd.registry.get(`decode:${d.url}`);
    expect(worker).toMatchObject({
      source: 'discovery',
      spec: d.workerSpec,
      address: { zmq: { text: d.kvAddress } },
    });
    // The KV hand-off happens over the announced ZMQ addresses, so this only works if they are right.
    const { status, text } = await complete(router);
    expect(status).toBe(200);
    expect(JSON.parse(text).choices[0].text).toBe(' tok0 tok1 tok2');
    expect(p.received[0]?.requestId).toContain(
      `___prefill_addr_${p.kvAddress}___decode_addr_${d.kvAddress}_`,
    );
    expect(
      await metricValue(router, 'pd_router_discovery_registrations_total{source="zmq",role="decode"}'),
    ).toBe(1);
  });

  it('refreshes live workers, drops a dead one behind a live one within TTL + TTL/5 (+ slack), and takes it back', async () => {
    const router = await discoveringRouter();
    const proxy = discoveryAddress(router);
    const d1 = await mock('decode', proxy);
    await waitFor(() => workerUrls(router, 'decode').length === 1);
    const d2 = await mock('decode', proxy);
    await waitFor(() => workerUrls(router, 'decode').length === 2);
    // d2 sits behind d1 (the reference only ever pruned the front, so d2 would stay forever).
    expect(workerUrls(router, 'decode')).toEqual([d1.url, d2.url]);
    const { port, kvPort } = d2;
    await d2.close();
    const stopped = performance.now();
    await waitFor(() => workerUrls(router, 'decode').length === 1, EXPIRY_BOUND_MS, 'd2 to expire');
    expect(performance.now() - stopped).toBeLessThan(EXPIRY_BOUND_MS);
    expect(workerUrls(router, 'decode')).toEqual([d1.url]);
    expect(
      await metricValue(
        router,
        'pd_router_discovery_removals_total{source="zmq",role="decode",reason="expired"}',
      ),
    ).toBe(1);
    // d1 keeps pinging: still there a TTL later (it registered more than two TTLs ago).
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect(workerUrls(router, 'decode')).toEqual([d1.url]);
    // The same instance comes back (same ports): it joins again.
    await mock('decode', proxy, { port, kvPort });
    await waitFor(() => workerUrls(router, 'decode').length === 2, 15_000, 'd2 to rejoin');
    expect(router.app.pd.registry.get(`decode:${d2.url}`)?.source).toBe('discovery');
  });

  it('survives junk and unknown messages: they are logged, counted and dropped, and registration goes on', async () => {
    const log = new CaptureLogger();
    const router = await startDynamicRouter(
      testConfig({ discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: [] }, health: HEALTH_OFF }),
      { logger: asLogger(log) },
    );
    open.push(router);
    const proxy = discoveryAddress(router);
    const good = { type: 'D', http_address: '127.0.0.1:1', zmq_address: '127.0.0.1:2' };
    await sendRaw(proxy, [
      ['not msgpack at all \xc1'],
      [encode('a string')],
      [encode({ ...good, type: 'X' })],
      [encode({ ...good, type: 'X' })],
      [encode({ ...good, zmq_address: 'nope' })],
      [encode({ ...good, http_address: 42 })],
      [Buffer.alloc(0)],
    ]);
    const rejected = (reason: string) =>
      metricValue(router, `pd_router_discovery_rejected_total{source="zmq",reason="${reason}"}`);
    await expect.poll(() => rejected('unknown_type'), { timeout: 15_000 }).toBe(2);
    expect(await rejected('not_msgpack')).toBe(2);
    expect(await rejected('not_a_map')).toBe(1);
    expect(await rejected('bad_zmq_address')).toBe(1);
    expect(await rejected('bad_http_address')).toBe(1);
    expect(workerUrls(router, 'decode')).toEqual([]);
    const warnings = log.entries.filter((e) => e.level === 'warn').map((e) => e.msg);
    expect(warnings).toContain(
      'discovery: registration refused (unknown_type): unknown type "X" (expected "P" or "D")',
    );
    // Logged once per reason per period, not once per message.
    expect(warnings.filter((m) => m?.includes('(unknown_type)'))).toHaveLength(1);
    // Discovery is still alive (the reference's listener died at the first unknown type).
    const d = await mock('decode', proxy);
    await waitFor(
      () => workerUrls(router, 'decode').includes(d.url),
      15_000,
      'a registration after the junk',
    );
  });

  it('admits only announced addresses inside --discovery-allow', async () => {
    const router = await discoveringRouter({
      discovery: { host: '127.0.0.1', port: 0, ttlMs: TTL_MS, allow: ['127.0.0.1/32'] },
    });
    const proxy = discoveryAddress(router);
    const outside = new Pinger(
      proxy,
      { type: 'P', http_address: '127.0.0.2:8100', zmq_address: '127.0.0.2:8101' },
      PING_MS,
    );
    const mixed = new Pinger(
      proxy,
      { type: 'P', http_address: '127.0.0.1:8100', zmq_address: '10.0.0.1:8101' },
      PING_MS,
      'mixed',
    );
    open.push(outside, mixed);
    const d = await mock('decode', proxy);
    await waitFor(() => workerUrls(router, 'decode').includes(d.url));
    await expect
      .poll(
        () => metricValue(router, 'pd_router_discovery_rejected_total{source="zmq",reason="not_allowed"}'),
        { timeout: 15_000 },
      )
      .toBeGreaterThanOrEqual(2);
    expect(workerUrls(router, 'prefill')).toEqual([]);
  });

  it('runs beside static workers: both serve, only discovered ones expire, static ones are never taken over', async () => {
    const p = await mock('prefill', undefined);
    const dStatic = await mock('decode', undefined);
    const router = await discoveringRouter({ prefill: [p.workerSpec], decode: [dStatic.workerSpec] });
    const proxy = discoveryAddress(router);
    const dFound = await mock('decode', proxy);
    // A registration announcing the static worker's address does not make it a discovered one.
    const twin = new Pinger(
      proxy,
      { type: 'D', http_address: dStatic.url.slice(7), zmq_address: dStatic.kvAddress },
      PING_MS,
      'twin',
    );
    open.push(twin);
    await waitFor(() => workerUrls(router, 'decode').length === 2);
    for (let i = 0; i < 4; i++) expect((await complete(router)).status).toBe(200);
    expect(dStatic.received).toHaveLength(2);
    expect(dFound.received).toHaveLength(2);
    await twin.close();
    await dFound.close();
    await waitFor(() => workerUrls(router, 'decode').length === 1, EXPIRY_BOUND_MS, 'dFound to expire');
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    expect(workerUrls(router, 'decode')).toEqual([dStatic.url]);
    expect(router.app.pd.registry.get(`decode:${dStatic.url}`)?.source).toBe('static');
    expect((await complete(router)).status).toBe(200);
  });
});
