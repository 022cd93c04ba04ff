import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { createDecodeServer, createPrefillServer, type MockVllm } from '@pd-router/mock-vllm';
import { afterAll, describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { bearer, send } from '../src/harness/http-get.js';
import { rawExchange } from '../src/harness/raw-http.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { postJson } from '../src/scenarios/bad-input.js';
import { SECURITY_KEYS } from '../src/scenarios/security.js';

const recorder = new ResultRecorder('security-discovery');
const open: { close(): Promise<unknown> }[] = [];
const UPSTREAM_AUTH = `Bearer ${SECURITY_KEYS.upstream}`;

afterAll(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
  recorder.flush();
});

async function discoveryStack(allow: string): Promise<Stack> {
  const stack = await startStack({
    router: {
      discovery: { address: '127.0.0.1:0', allow: [allow] },
      upstreamApiKey: SECURITY_KEYS.upstream,
      adminApiKey: SECURITY_KEYS.admin,
    },
  });
  open.push(stack);
  return stack;
}

/** A prefill mock that registers with the router every 100 ms, as a vLLM P2pNcclEngine does every 3 s. */
async function registrant(stack: Stack): Promise<MockVllm> {
  const m = await createPrefillServer({ proxyAddress: stack.discoveryAddress(), registerIntervalMs: 100 });
  open.push(m);
  return m;
}

function authOf(m: MockVllm): string[] {
  return m.received.map((r) => String(r.headers.authorization));
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}

describe('the discovery allow-list and where the upstream key goes', () => {
  it('security/discovery-allow-refuses', async () => {
    const stack = await discoveryStack('10.0.0.0/8');
    const intruder = await registrant(stack);
    const refused = await waitFor(
      async () => stack.log.lines.some((l) => (l.msg ?? '').includes('registration refused')),
      15_000,
    );
    expect(refused).toBe(true);
    // Several more pings: still not admitted.
    await new Promise((r) => setTimeout(r, 500));
    expect((await stack.workers()).map((w) => w.url)).not.toContain(intruder.url);
    for (let i = 0; i < 4; i++)
      expect((await postCompletion(stack.url, completionBody(false))).status).toBe(200);
    expect(intruder.received).toHaveLength(0);
    expect(authOf(stack.prefills[0] as MockVllm)).toEqual(Array(4).fill(UPSTREAM_AUTH));
    recorder.record({
      id: 'security/discovery-allow-refuses',
      observed:
        'refused (warn log, not in `/workers`); it receives no request and never sees the upstream key',
    });
  });

  it('security/discovery-allow-admits', async () => {
    const stack = await discoveryStack('127.0.0.0/8');
    const member = await registrant(stack);
    const admitted = await waitFor(
      async () => (await stack.workers()).some((w) => w.url === member.url),
      15_000,
    );
    expect(admitted).toBe(true);
    for (let i = 0; i < 4; i++)
      expect((await postCompletion(stack.url, completionBody(false))).status).toBe(200);
    expect(member.received.length).toBeGreaterThan(0);
    expect(authOf(member)).toEqual(Array(member.received.length).fill(UPSTREAM_AUTH));
    recorder.record({
      id: 'security/discovery-allow-admits',
      observed: `admitted (in \`/workers\`); it serves requests (${member.received.length} of 4), with the upstream key`,
    });
  });

  it('security/upstream-key-only-to-workers', async () => {
    const stack = await discoveryStack('10.0.0.0/8');
    // A listener that must never hear from the router, however the client names it.
    let connections = 0;
    const bystander: Server = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => bystander.listen(0, '127.0.0.1', resolve));
    open.push({ close: () => new Promise((resolve) => bystander.close(resolve)) });
    const elsewhere = `127.0.0.1:${(bystander.address() as AddressInfo).port}`;
    const body = completionBody(false);
    const shapes = [
      postJson(body, [['Content-Type', 'application/json']], `http://${elsewhere}/v1/completions`),
      Buffer.from(
        postJson(body).toString('latin1').replace('Host: router.test', `Host: ${elsewhere}`),
        'latin1',
      ),
      postJson(body, [
        ['Content-Type', 'application/json'],
        ['X-Forwarded-Host', elsewhere],
        ['Forwarded', `host=${elsewhere}`],
      ]),
    ];
    for (const parts of shapes) {
      const r = await rawExchange({ port: stack.port, parts: [parts] });
      expect(r.responses[0]?.status).toBe(200);
    }
    // A worker added through the admin API is admitted: it gets the key too.
    const added = await createDecodeServer();
    open.push(added);
    const add = await send(
      stack.url,
      'POST',
      '/admin/workers',
      { ...bearer(SECURITY_KEYS.admin), 'content-type': 'application/json' },
      JSON.stringify({ role: 'decode', url: added.workerSpec }),
    );
    expect(add.status).toBe(201);
    for (let i = 0; i < 4; i++)
      expect((await postCompletion(stack.url, completionBody(false))).status).toBe(200);
    expect(connections).toBe(0);
    expect(added.received.length).toBeGreaterThan(0);
    for (const m of [...stack.prefills, ...stack.decodes, added]) {
      expect(authOf(m)).toEqual(Array(m.received.length).fill(UPSTREAM_AUTH));
    }
    recorder.record({
      id: 'security/upstream-key-only-to-workers',
      observed:
        'the other listener gets no connection; configured and admin-added workers get `Authorization: Bearer <upstream key>`',
    });
  });
});
