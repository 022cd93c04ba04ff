import { createServer, type Server, Socket } from 'node:net';
import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { buildServer, resolveConfig } from '@pd-router/server';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureLogger } from '../src/harness/capture-logger.js';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { BASE_ROUTER_SETTINGS, type Router } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { BREAKER_PANIC, BREAKER_PANIC_ID } from '../src/scenarios/breaker.js';

const recorder = new ResultRecorder('breaker');
const open: { close(): Promise<unknown> }[] = [];

afterAll(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
  recorder.flush();
});

/**
 * A TCP gate in front of the decode, on a port of its own: piped connections live on when the gate
 * stops listening, so the decode keeps serving its streams while new connections are refused.
 * (Loopback cannot drop SYNs without root, so refused connections stand in for the connect
 * timeouts of a full backlog: both are `connect` failures to the breaker.)
 */
class Gate {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(readonly targetPort: number) {}

  async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      this.#track(client);
      this.#track(upstream);
      upstream.connect(this.targetPort, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops accepting; connections already piped stay. */
  shut(): void {
    this.#server?.close();
    this.#server = undefined;
  }

  async close(): Promise<void> {
    this.shut();
    for (const s of this.#sockets) s.destroy();
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }
}

async function metric(url: string, series: string): Promise<number | undefined> {
  const res = await request(`${url}/metrics`, { reset: true });
  const text = await res.body.text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the circuit breaker never empties a pool', () => {
  it(BREAKER_PANIC_ID, { timeout: 120_000 }, async () => {
    const prefill: MockVllm = await createPrefillServer();
    open.push(prefill);
    const decode: MockVllm = await createDecodeServer({
      timing: { interTokenMs: BREAKER_PANIC.interTokenMs },
    });
    open.push(decode);
    const gate = new Gate(decode.port);
    await gate.listen();
    open.push(gate);
    const resolved = resolveConfig({
      ...BASE_ROUTER_SETTINGS,
      prefill: [prefill.workerSpec],
      decode: [`http://127.0.0.1:${gate.port}:zmq://${decode.kvAddress}`],
      health: {
        ...BASE_ROUTER_SETTINGS.health,
        circuitFailureThreshold: BREAKER_PANIC.circuitFailureThreshold,
        circuitOpenMs: BREAKER_PANIC.circuitOpenMs,
      },
    });
    if (!resolved.ok) throw resolved.error;
    const log = new CaptureLogger();
    const router: Router = await buildServer(resolved.value, { logger: log.as(), env: {} });
    await router.listen({ host: '127.0.0.1', port: 0 });
    open.push(router);
    const url = `http://127.0.0.1:${(router.server.address() as { port: number }).port}`;

    // The decode serves streams...
    const streams = Array.from({ length: BREAKER_PANIC.streams }, () =>
      postCompletion(url, completionBody(true, BREAKER_PANIC.streamTokens)),
    );
    const deadline = performance.now() + 60_000;
    while (decode.load < BREAKER_PANIC.streams && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(decode.load).toBe(BREAKER_PANIC.streams);

    // ...while its port refuses new connections for a burst of requests.
    gate.shut();
    const burst = await Promise.all(
      Array.from({ length: BREAKER_PANIC.burst }, () => postCompletion(url, completionBody(false))),
    );
    const burstStatuses = new Set(burst.map((r) => r.status));
    expect([...burstStatuses]).toEqual([502]);
    const worker = `http://127.0.0.1:${gate.port}`;
    expect(await metric(url, `pd_router_worker_circuit_state{role="decode",worker="${worker}"}`)).toBe(2);
    expect(await metric(url, 'pd_router_pool_panic{role="decode"}')).toBe(1);
    expect(log.lines.some((l) => l.level >= 40 && (l.msg ?? '').startsWith('panic mode:'))).toBe(true);

    // The port accepts again; the circuit stays open for minutes, yet every request is served.
    await gate.listen();
    const after: number[] = [];
    for (let i = 0; i < BREAKER_PANIC.after; i++)
      after.push((await postCompletion(url, completionBody(false))).status);
    expect(after).toEqual(Array(BREAKER_PANIC.after).fill(200));
    expect(await metric(url, 'pd_router_pool_panic{role="decode"}')).toBe(1);

    const ended = await Promise.all(streams);
    const done = ended.filter((r) => r.status === 200 && r.events.at(-1) === '[DONE]').length;
    expect(done).toBe(BREAKER_PANIC.streams);
    recorder.record({
      id: BREAKER_PANIC_ID,
      observed: `the burst's ${burst.length} requests: 502 (connect); circuit open; the pool entered panic mode (warn log, \`pd_router_pool_panic{role="decode"} 1\`) instead of emptying; ${done} of ${BREAKER_PANIC.streams} streams ended with \`[DONE]\`; ${after.filter((s) => s === 200).length} of ${BREAKER_PANIC.after} requests after the burst answered 200 with the circuit still open`,
    });
  });
});
