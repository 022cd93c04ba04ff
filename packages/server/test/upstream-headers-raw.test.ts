import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { type Router, SEED_COMPLETIONS_BODY, startRouter, testConfig } from './helpers.js';

interface RawCapture {
  readonly head: string;
  readonly body: Buffer;
}

/** A raw TCP "worker": sees every byte of each request and answers a fixed JSON on the same connection. */
async function startRawWorker(): Promise<{ server: Server; port: number; captures: RawCapture[] }> {
  const captures: RawCapture[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (buf.length < end + 4 + length) return;
        captures.push({ head, body: buf.subarray(end + 4, end + 4 + length) });
        buf = buf.subarray(end + 4 + length);
        const answer = '{"ok": true}';
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${answer.length}\r\n\r\n${answer}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  return { server, port: (server.address() as AddressInfo).port, captures };
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

const EXPECTED = [
  'host',
  'authorization',
  'x-request-id',
  'accept',
  'accept-encoding',
  'user-agent',
  'content-length',
  'content-type',
];

describe('upstream request bytes (raw socket)', () => {
  for (const [label, env, auth] of [
    ['OPENAI_API_KEY unset', {}, 'Bearer None'],
    ['OPENAI_API_KEY empty', { OPENAI_API_KEY: '' }, 'Bearer '],
    ['OPENAI_API_KEY set', { OPENAI_API_KEY: 'sk-x' }, 'Bearer sk-x'],
  ] as const) {
    it(`sends exactly the reference header set, once each, no Transfer-Encoding (${label})`, async () => {
      const p = await startRawWorker();
      const d = await startRawWorker();
      open.push({ close: () => new Promise((r) => p.server.close(() => r())) });
      open.push({ close: () => new Promise((r) => d.server.close(() => r())) });
      const router: Router = await startRouter(
        testConfig({
          prefill: [`http://127.0.0.1:${p.port}:zmq://127.0.0.1:21001`],
          decode: [`http://127.0.0.1:${d.port}:zmq://127.0.0.1:22001`],
        }),
        { env },
      );
      open.push(router);
      const res = await request(`${router.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.1', cookie: 'a=b' },
        body: SEED_COMPLETIONS_BODY,
      });
      expect(res.statusCode).toBe(200);
      expect(await res.body.text()).toBe('{"ok": true}');

      const ids: string[] = [];
      for (const [capture, port] of [
        [p.captures[0], p.port],
        [d.captures[0], d.port],
      ] as const) {
        if (capture === undefined) throw new Error('no request captured');
        const [requestLine, ...lines] = capture.head.split('\r\n');
        expect(requestLine).toBe('POST /v1/completions HTTP/1.1');
        const headers = lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 2)] as const;
        });
        const names = headers.map(([n]) => n);
        expect(new Set(names).size, 'no header twice').toBe(names.length);
        expect(names.filter((n) => n !== 'connection').sort()).toEqual([...EXPECTED].sort());
        const get = (name: string) => headers.find(([n]) => n === name)?.[1];
        expect(get('connection') ?? 'keep-alive').toBe('keep-alive');
        expect(get('transfer-encoding')).toBeUndefined();
        expect(get('host')).toBe(`127.0.0.1:${port}`);
        // Byte-exact, including the trailing space of "Bearer " that HTTP parsers trim.
        expect(capture.head).toContain(`\r\nAuthorization: ${auth}\r\n`);
        expect(get('accept')).toBe('*/*');
        expect(get('accept-encoding')).toBe('gzip, deflate');
        expect(get('user-agent')).toBe(`pd-router/${VERSION}`);
        expect(get('content-type')).toBe('application/json');
        expect(get('content-length')).toBe(String(capture.body.length));
        const id = get('x-request-id') ?? '';
        expect(id).toMatch(
          /^___prefill_addr_127\.0\.0\.1:21001___decode_addr_127\.0\.0\.1:22001_[0-9a-f]{32}$/,
        );
        ids.push(id);
      }
      expect(ids[0]).toBe(ids[1]);
    });
  }
});
