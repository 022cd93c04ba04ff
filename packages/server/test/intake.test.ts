import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { canonicalize, prefillBody } from '@pd-router/core';
import Fastify from 'fastify';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INTAKE_CONFIG } from '../src/config/schema.js';
import { ServerError } from '../src/errors.js';
import { bodyParser } from '../src/intake/body.js';
import { fdReserve, readFdLimit, resolveMaxConnections } from '../src/intake/connections.js';
import { SLICED_PARSE_MIN_BYTES } from '../src/intake/parse-slices.js';
import { closeAfterEach, jsonAnswer, sleep, startFakeWorker, startRouter, testConfig } from './helpers.js';

const open = closeAfterEach();

async function setup(intake: Partial<typeof DEFAULT_INTAKE_CONFIG> = {}) {
  const p = await startFakeWorker(jsonAnswer({ prefill: true }));
  const d = await startFakeWorker(jsonAnswer({ id: 'cmpl-1', choices: [{ text: ' city' }] }));
  open.push(p, d);
  const router = await startRouter(
    testConfig({
      prefill: [p.spec('127.0.0.1:21001')],
      decode: [d.spec('127.0.0.1:22001')],
      maxPayloadSize: 16 * 1_048_576,
      intake: { ...DEFAULT_INTAKE_CONFIG, ...intake },
    }),
  );
  open.push(router);
  return { p, d, router, port: Number(new URL(router.url).port) };
}

async function connected(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
}

/** Everything the peer sends until it closes the connection. */
async function untilClosed(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  await once(socket, 'close');
  return text;
}

/** A large completion body: a prompt of `n` token ids and a few other members. */
function largeBody(n: number): Buffer {
  return Buffer.from(
    `{"model":"m","prompt":[${Array.from({ length: n }, (_, i) => i % 50_000).join(',')}],"max_tokens":7,"n":1}`,
  );
}

describe('large bodies, canonicalized in slices at intake', () => {
  it('send the workers exactly the canonical bodies', async () => {
    const { p, d, router } = await setup();
    const body = largeBody(200_000);
    expect(body.length).toBeGreaterThan(SLICED_PARSE_MIN_BYTES);
    const res = await request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const decode = canonicalize(body);
    const prefill = prefillBody(body);
    expect(decode.ok && prefill.ok).toBe(true);
    expect(p.received[0]?.body.toString('latin1')).toBe(prefill.ok ? prefill.value : '');
    expect(d.received[0]?.body.toString('latin1')).toBe(decode.ok ? decode.value : '');
  });

  it('get 400 with the core code and position when invalid, and past --max-json-elements', async () => {
    const { p, router } = await setup({ maxJsonElements: 100_000 });
    for (const [body, code] of [
      [Buffer.concat([largeBody(90_000).subarray(0, -1), Buffer.from(',]')]), 'PD_ERR_JSON_SYNTAX'],
      [largeBody(200_000), 'PD_ERR_JSON_TOO_MANY_ELEMENTS'],
    ] as const) {
      const res = await request(`${router.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(res.statusCode).toBe(400);
      const answer = (await res.body.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe(code);
      expect(answer.error.message).toMatch(/at byte \d+/);
    }
    expect(p.received).toHaveLength(0);
  });

  it('beyond the parse budget get 503 PD_ERR_PARSE_BUSY with Retry-After, while one at a time goes through', async () => {
    const { router } = await setup({ parseBudgetBytes: 1 });
    const body = largeBody(600_000);
    const answers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const res = await request(`${router.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const text = await res.body.text();
        return { status: res.statusCode, retryAfter: res.headers['retry-after'], text };
      }),
    );
    const busy = answers.filter((a) => a.status === 503);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(busy.length + answers.filter((a) => a.status === 200).length).toBe(4);
    for (const b of busy) {
      expect(b.retryAfter).toBe('1');
      expect(JSON.parse(b.text).error.code).toBe('PD_ERR_PARSE_BUSY');
    }
  });
});

describe('connection limits', () => {
  it('answer a connection beyond --max-connections 503 and close it; a freed slot serves again', async () => {
    const { router, port } = await setup({ maxConnections: 2 });
    const held = [await connected(port), await connected(port)];
    const third = await connected(port);
    const refusal = await untilClosed(third);
    expect(refusal).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(refusal).toContain('Retry-After: 1\r\n');
    expect(refusal).toContain('"code":"PD_ERR_TOO_MANY_CONNECTIONS"');
    held[0]?.destroy();
    await sleep(100);
    const res = await request(`${router.url}/health`, { reset: true });
    await res.body.dump();
    expect(res.statusCode).toBeLessThan(500);
    held[1]?.destroy();
  });

  it('keep file descriptors for the router itself when automatic', () => {
    expect(resolveMaxConnections(123, 20_000)).toBe(123);
    expect(resolveMaxConnections(0, 20_000)).toBe(20_000 - 4_096);
    expect(resolveMaxConnections(0, 1_024)).toBe(768);
    expect(resolveMaxConnections(0, 50)).toBe(1);
    expect(fdReserve(1_048_576)).toBe(4_096);
    const dir = mkdtempSync(join(tmpdir(), 'limits-'));
    const file = join(dir, 'limits');
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units\nMax open files            4096                 524288               files\n',
    );
    expect(readFdLimit(file)).toBe(4_096);
    writeFileSync(file, 'Max open files            unlimited            unlimited            files\n');
    expect(readFdLimit(file)).toBeUndefined();
    expect(readFdLimit(join(dir, 'missing'))).toBeUndefined();
  });

  it('pass --keep-alive-timeout-ms to the server', async () => {
    const { router } = await setup({ keepAliveTimeoutMs: 1_234 });
    expect(router.app.server.keepAliveTimeout).toBe(1_234);
  });
});

describe('body deadlines', () => {
  it('answer 408 PD_ERR_BODY_TIMEOUT past --body-timeout-ms and close the connection', async () => {
    const { p, port } = await setup({ bodyTimeoutMs: 300 });
    const socket = await connected(port);
    const started = performance.now();
    socket.write(
      'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{',
    );
    const answer = await untilClosed(socket);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"code":"PD_ERR_BODY_TIMEOUT"');
    // The check runs every second: at least the budget, well under the next checks.
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(p.received).toHaveLength(0);
  });
});

/** A Fastify app whose JSON bodies go through bodyParser and come back as their length and bytes. */
async function echoApp(minRate: number, rateWindowMs: number) {
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    bodyParser({ limit: 1_000_000, timeoutMs: 60_000, minRate, rateWindowMs }),
  );
  app.setErrorHandler((error, _request, reply) => {
    const status = error instanceof ServerError ? error.statusCode : 500;
    if (status === 408) reply.header('connection', 'close');
    reply.code(status).send({ code: error instanceof ServerError ? error.code : 'other' });
  });
  app.post('/echo', async (req) => ({
    length: (req.body as Buffer).length,
    base64: (req.body as Buffer).toString('base64'),
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  open.push(app);
  return Number((app.server.address() as { port: number }).port);
}

describe('bodyParser', () => {
  it('answers 408 when a body arrives slower than the minimum rate', async () => {
    const port = await echoApp(100, 300);
    const socket = await connected(port);
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
    );
    const trickle = setInterval(() => socket.writable && socket.write('a'), 50);
    const answer = await untilClosed(socket);
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"PD_ERR_BODY_TIMEOUT"');
  });

  it('assembles bodies written one byte at a time, with and without Content-Length', async () => {
    const port = await echoApp(0, 10_000);
    const body = JSON.stringify({ text: 'é'.repeat(300) + 'x'.repeat(40_000) });
    const bytes = Buffer.from(body);
    for (const chunkedEncoding of [false, true]) {
      const socket = await connected(port);
      socket.setNoDelay(true);
      socket.write(
        `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n${chunkedEncoding ? 'Transfer-Encoding: chunked' : `Content-Length: ${bytes.length}`}\r\n\r\n`,
      );
      const answer = untilClosed(socket);
      for (let k = 0; k < bytes.length; k += 1) {
        const byte = bytes.subarray(k, k + 1);
        socket.write(
          chunkedEncoding ? Buffer.concat([Buffer.from('1\r\n'), byte, Buffer.from('\r\n')]) : byte,
        );
        if (k % 1_000 === 0) await new Promise((r) => setImmediate(r));
      }
      if (chunkedEncoding) socket.write('0\r\n\r\n');
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { length: number; base64: string };
      expect(json.length).toBe(bytes.length);
      expect(json.base64 === bytes.toString('base64')).toBe(true);
    }
  });

  it('answers 413 from Content-Length before reading, and as soon as a chunked body crosses the limit', async () => {
    const port = await echoApp(0, 10_000);
    const socket = await connected(port);
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000001\r\n\r\n',
    );
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      text += c;
    });
    const deadline = performance.now() + 10_000;
    while (!text.includes('\r\n\r\n') && performance.now() < deadline) await sleep(20);
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain('"code":"PD_ERR_PAYLOAD_TOO_LARGE"');
    socket.destroy();
    // Chunked (no Content-Length): refused once the limit is crossed, never a 200.
    let status = 0;
    try {
      const res = await request(`http://127.0.0.1:${port}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Readable.from(
          (function* () {
            for (let i = 0; i < 20; i++) yield Buffer.alloc(100_000, 0x20);
          })(),
        ),
      });
      status = res.statusCode;
      await res.body.dump();
    } catch {
      // The server may close the connection while the client still sends: refused too.
      status = -1;
    }
    expect([413, -1]).toContain(status);
  });
});
