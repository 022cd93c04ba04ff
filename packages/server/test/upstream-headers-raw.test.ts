import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { e2eKit, SEED_COMPLETIONS_BODY, UPSTREAM_HEADER_NAMES } from './helpers.js';

interface RawCapture {
  readonly head: string;
  readonly body: Buffer;
}

/** A raw TCP "worker": sees every byte of each request and answers a fixed JSON on the same connection. */
async function startRawWorker(): Promise<{ port: number; captures: RawCapture[]; close(): Promise<void> }> {
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
  return {
    port: (server.address() as AddressInfo).port,
    captures,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const kit = e2eKit();

/** A raw prefill and decode, closed after the test. */
async function rawPair() {
  const p = await startRawWorker();
  kit.open.push(p);
  const d = await startRawWorker();
  kit.open.push(d);
  return { p, d };
}

/** Headers undici writes at a place of its own, whatever the list's order. */
const UNDICI_PLACED = new Set(['host', 'connection', 'content-length']);
const P2P_ORDER = [
  'authorization',
  'x-request-id',
  'accept',
  'accept-encoding',
  'user-agent',
  'content-type',
];
/** nixl-toy-proxy.md, "Header set and order" (httpx). */
const NIXL_ORDER = [
  'accept',
  'accept-encoding',
  'user-agent',
  'authorization',
  'x-request-id',
  'content-type',
];

/** Header names of a captured head, lower-cased, in wire order. */
function headerNames(head: string): string[] {
  return head
    .split('\r\n')
    .slice(1)
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());
}

describe('upstream request bytes (raw socket)', () => {
  for (const [label, env, auth] of [
    ['OPENAI_API_KEY unset', {}, 'Bearer None'],
    ['OPENAI_API_KEY empty', { OPENAI_API_KEY: '' }, 'Bearer '],
    ['OPENAI_API_KEY set', { OPENAI_API_KEY: 'sk-x' }, 'Bearer sk-x'],
  ] as const) {
    it(`sends exactly the reference header set, once each, no Transfer-Encoding (${label})`, async () => {
      const { p, d } = await rawPair();
      const router = await kit.router(
        {
          prefill: [`http://127.0.0.1:${p.port}:zmq://127.0.0.1:21001`],
          decode: [`http://127.0.0.1:${d.port}:zmq://127.0.0.1:22001`],
        },
        { env },
      );
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
        // The reference proxy's order; undici itself puts host and connection first, content-length last.
        expect(names.filter((n) => !UNDICI_PLACED.has(n))).toEqual(P2P_ORDER);
        expect(names.filter((n) => n !== 'connection').sort()).toEqual([...UPSTREAM_HEADER_NAMES].sort());
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

  it("NIXL: the same set, in the NIXL toy proxy's order, on both legs", async () => {
    const { p, d } = await rawPair();
    // The raw prefill answers without kv_transfer_params: the decode is still sent (a counted recompute).
    const router = await kit.router({
      kvConnector: 'nixl',
      prefill: [`http://127.0.0.1:${p.port}`],
      decode: [`http://127.0.0.1:${d.port}`],
    });
    const res = await request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: SEED_COMPLETIONS_BODY,
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    for (const capture of [p.captures[0], d.captures[0]]) {
      if (capture === undefined) throw new Error('no request captured');
      const names = headerNames(capture.head);
      expect(names.filter((n) => n !== 'connection').sort()).toEqual([...UPSTREAM_HEADER_NAMES].sort());
      expect(names.filter((n) => !UNDICI_PLACED.has(n))).toEqual(NIXL_ORDER);
      expect(capture.head).toMatch(
        /\r\nX-Request-Id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n/,
      );
    }
  });
});
