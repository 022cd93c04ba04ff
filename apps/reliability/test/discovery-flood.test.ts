import { encode } from '@msgpack/msgpack';
import { createDecodeServer, createPrefillServer } from '@pd-router/mock-vllm';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { type RouterProcess, startRouterProcess } from '../src/harness/router-process.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { DISCOVERY_FLOOD, DISCOVERY_FLOOD_ID } from '../src/scenarios/security.js';

const recorder = new ResultRecorder('discovery-flood');
const open: { close(): Promise<unknown> }[] = [];
const MB = 1024 * 1024;

afterAll(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  recorder.flush();
});

async function metricsText(url: string): Promise<string> {
  const res = await request(`${url}/metrics`, { reset: true });
  return res.body.text();
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/**
 * One fake registration: a decode on a loopback address where nothing listens (port 9), so its
 * health check is refused at once and it never takes traffic.
 */
function fake(i: number): Uint8Array {
  const host = `127.77.${(i >> 8) & 255}.${i & 255}`;
  return encode({ type: 'D', http_address: `${host}:9`, zmq_address: `${host}:10` });
}

describe('a registration flood', () => {
  it(DISCOVERY_FLOOD_ID, { timeout: 180_000 }, async () => {
    const prefill = await createPrefillServer();
    open.push(prefill);
    const decode = await createDecodeServer();
    open.push(decode);
    const router: RouterProcess = await startRouterProcess([
      '--prefill',
      prefill.workerSpec,
      '--decode',
      decode.workerSpec,
      '--vllm-discovery-address',
      '127.0.0.1:0',
    ]);
    const started = router;
    open.push({ close: () => router.stop() });
    const listening = router.logs.find(
      (l) => typeof l.msg === 'string' && l.msg.includes('registrations on tcp://'),
    );
    const proxy = String(listening?.['address']);
    expect(proxy).toMatch(/^127\.0\.0\.1:\d+$/);

    // Warm up, then the baseline.
    for (let i = 0; i < 20; i++)
      expect((await postCompletion(router.url, completionBody(false))).status).toBe(200);
    const rssBefore = router.rssBytes();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, started.rssBytes());
    }, 50);
    // The most discovered workers the router held at once, from /workers.
    let mostDiscovered = 0;
    const discovered = async (): Promise<number> => {
      const res = await request(`${started.url}/workers`, { reset: true });
      const body = (await res.body.json()) as { workers: { source: string }[] };
      return body.workers.filter((w) => w.source === 'discovery').length;
    };

    // A client keeps going through the flood and a little after it.
    let flooding = true;
    const statuses: number[] = [];
    const client = (async () => {
      while (flooding) statuses.push((await postCompletion(started.url, completionBody(false))).status);
      for (let i = 0; i < 10; i++)
        statuses.push((await postCompletion(started.url, completionBody(false))).status);
    })();

    const t0 = performance.now();
    const perSender = DISCOVERY_FLOOD.registrations / DISCOVERY_FLOOD.senders;
    await Promise.all(
      Array.from({ length: DISCOVERY_FLOOD.senders }, async (_, s) => {
        const dealer = new zmq.Dealer({ routingId: `flood-${s}`, linger: 5_000 });
        dealer.connect(`tcp://${proxy}`);
        for (let i = 0; i < perSender; i++) await dealer.send(fake(s * perSender + i));
        dealer.close();
      }),
    );
    const floodMs = performance.now() - t0;
    // Every message read and counted (accepted, dropped or refused), within a bound.
    const deadline = performance.now() + 60_000;
    let text = await metricsText(router.url);
    const counted = (t: string) =>
      sample(t, 'pd_router_discovery_heartbeats_total{source="zmq"}') +
      sample(t, 'pd_router_discovery_rejected_total{source="zmq",reason="rate_limited"}');
    while (counted(text) < DISCOVERY_FLOOD.registrations && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      mostDiscovered = Math.max(mostDiscovered, await discovered());
      text = await metricsText(router.url);
    }
    mostDiscovered = Math.max(mostDiscovered, await discovered());
    flooding = false;
    await client;
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, router.rssBytes());

    expect(counted(text)).toBe(DISCOVERY_FLOOD.registrations);
    const rateLimited = sample(
      text,
      'pd_router_discovery_rejected_total{source="zmq",reason="rate_limited"}',
    );
    const overCap = sample(text, 'pd_router_discovery_rejected_total{source="zmq",reason="max_workers"}');
    const registered = sample(text, 'pd_router_discovery_registrations_total{source="zmq",role="decode"}');
    expect(rateLimited).toBeGreaterThan(0);
    expect(registered).toBeGreaterThan(0);
    expect(mostDiscovered).toBeLessThanOrEqual(DISCOVERY_FLOOD.maxWorkers);
    expect(statuses.length).toBeGreaterThanOrEqual(10);
    expect(new Set(statuses)).toEqual(new Set([200]));
    // None of the fakes ever got a request: the real decode served them all.
    expect(decode.received.length).toBe(20 + statuses.length);
    const growthMb = (rssPeak - rssBefore) / MB;
    expect(growthMb).toBeLessThan(DISCOVERY_FLOOD.rssBudgetMb);
    const mb = (bytes: number) => Math.round(bytes / MB);
    recorder.record({
      id: DISCOVERY_FLOOD_ID,
      observed: `${statuses.length} of ${statuses.length} completions 200; ${registered.toLocaleString('en-US')} fakes registered over the run, at most ${mostDiscovered} at once (none got traffic), ${rateLimited.toLocaleString('en-US')} dropped as \`rate_limited\`, ${overCap} refused as \`max_workers\`; RSS ${mb(rssBefore)} MiB before, peak ${mb(rssPeak)} MiB (+${Math.round(growthMb)})`,
      timeMs: Math.round(floodMs),
    });
  });
});
