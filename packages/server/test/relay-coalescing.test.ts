import { connect } from 'node:net';
import { constants, createGzip } from 'node:zlib';
import { SseParser } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { e2eKit, type Router, sleep } from './helpers.js';

const kit = e2eKit();

function setup(streamIdleTimeoutMs?: number) {
  return kit.pair(streamIdleTimeoutMs === undefined ? {} : { streamIdleTimeoutMs });
}

const STREAM_BODY = '{"model": "m", "prompt": "hi", "max_tokens": 5, "stream": true}';
/** The idle-budget cases: 21 events GAP_MS apart outlast two budgets, no gap comes near one. */
const IDLE_MS = 2_000;
const GAP_MS = 200;
const EVENTS = 21;

interface RawResponse {
  readonly head: string;
  /** The body's HTTP/1.1 chunks, as framed on the wire by the router. */
  readonly chunks: Buffer[];
  /** Every byte of the response, as the client's socket delivered it (arbitrary boundaries). */
  readonly reads: Buffer[];
}

/** Splits a complete chunked body into its chunks (throws on bad framing). */
function dechunk(body: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw new Error('chunk size line not terminated');
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    at = eol + 2;
    if (size === 0) return chunks;
    chunks.push(body.subarray(at, at + size));
    if (body.subarray(at + size, at + size + 2).toString('latin1') !== '\r\n')
      throw new Error('bad chunk end');
    at += size + 2;
  }
}

/** One request over a raw socket (Connection: close), so the test sees the chunk framing itself. */
function rawPost(router: Router, body: string): Promise<RawResponse> {
  const { port } = new URL(router.url);
  return new Promise((resolve, reject) => {
    const reads: Buffer[] = [];
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    socket.on('data', (chunk: Buffer) => reads.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(reads);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1');
      try {
        const chunks = /transfer-encoding: chunked/i.test(head) ? dechunk(all.subarray(split + 4)) : [];
        resolve({ head, chunks, reads });
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The SSE data fields of a body fed to the parser in the given pieces. */
function sseData(pieces: readonly Buffer[]): string[] {
  const parser = new SseParser();
  const out: string[] = [];
  for (const piece of pieces) for (const event of parser.push(piece)) out.push(event.data);
  for (const event of parser.end()) out.push(event.data);
  return out;
}

/** Cuts `bytes` at pseudo-random points (a fixed seed: the same cuts every run). */
function cutAnywhere(bytes: Buffer, seed: number): Buffer[] {
  const pieces: Buffer[] = [];
  let state = seed;
  let at = 0;
  while (at < bytes.length) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const size = 1 + (state % 97);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

describe('relay write coalescing', () => {
  it('relays a burst of N events intact and in order, in far fewer writes than events', async () => {
    const { d, router } = await setup();
    const n = 500;
    const expected = Array.from({ length: n }, (_, i) => `{"i": ${i}, "text": "token ${i}"}`);
    d.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One upstream HTTP chunk per event, all in one tick, as a fast vLLM does.
      for (const data of expected) res.write(`data: ${data}\n\n`);
      res.end('data: [DONE]\n\n');
    };
    const response = await rawPost(router, STREAM_BODY);
    expect(response.head).toMatch(/^HTTP\/1\.1 200/);
    const body = Buffer.concat(response.chunks);
    // Whatever the boundaries: as framed by the router, as read by the socket, or cut anywhere.
    expect(sseData(response.chunks)).toEqual([...expected, '[DONE]']);
    expect(sseData([body])).toEqual([...expected, '[DONE]']);
    expect(sseData(cutAnywhere(body, 7))).toEqual([...expected, '[DONE]']);
    // The events of one upstream read leave in one client chunk, not one chunk each.
    expect(response.chunks.length).toBeLessThan(n / 10);
  });

  it('keeps order across bursts, pauses and events split over upstream writes', async () => {
    const { d, router } = await setup();
    const expected: string[] = [];
    d.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      for (let burst = 0; burst < 20; burst++) {
        for (let k = 0; k < 1 + (burst % 7); k++, i++) {
          const data = `{"i": ${i}}`;
          expected.push(data);
          const frame = `data: ${data}\n\n`;
          // Every third event is split across two writes (and two HTTP chunks).
          if (i % 3 === 0) {
            res.write(frame.slice(0, 5));
            res.write(frame.slice(5));
          } else res.write(frame);
        }
        await sleep(burst % 4 === 0 ? 5 : 0);
      }
      res.end('data: [DONE]\n\n');
    };
    const response = await rawPost(router, STREAM_BODY);
    expect(sseData(response.chunks)).toEqual([...expected, '[DONE]']);
    expect(sseData(cutAnywhere(Buffer.concat(response.chunks), 11))).toEqual([...expected, '[DONE]']);
  });

  it('events queued in the tick an upstream breaks reach the client before the error event', async () => {
    const { d, router } = await setup();
    d.handler = (_req, res) => {
      const socket = res.socket;
      if (socket === null) return;
      const frame = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
      // Two good chunks, then bad framing, in one write: undici fails while the events are queued.
      socket.write(
        'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
          frame('data: {"n": 1}\n\n') +
          frame('data: {"n": 2}\n\n') +
          'zz\r\n',
      );
    };
    const response = await rawPost(router, STREAM_BODY);
    const events = sseData(response.chunks);
    expect(events.slice(0, 2)).toEqual(['{"n": 1}', '{"n": 2}']);
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2] ?? '')).toMatchObject({
      error: { code: 'PD_ERR_STREAM_BROKEN', type: 'upstream_error' },
    });
  });

  it('sends a small JSON answer as headers and body in one piece, with its Content-Length', async () => {
    const { router } = await setup();
    const response = await rawPost(router, '{"prompt": "hi"}');
    expect(response.head).toMatch(/^HTTP\/1\.1 200/);
    expect(response.head).toMatch(/content-length: 15/i);
    expect(response.head).not.toMatch(/transfer-encoding/i);
    // Headers and body left in one write (one TCP segment on loopback), not two.
    expect(response.reads).toHaveLength(1);
    expect(response.reads[0]?.toString('latin1').endsWith('\r\n\r\n{"decode":true}')).toBe(true);
  });

  it('a stream that keeps sending, each gap well within the idle budget, is never cut as idle', async () => {
    // Gaps 1.8 s short of the budget: an event-loop stall of a loaded machine is not a silence.
    const { d, router } = await setup(IDLE_MS);
    const expected = Array.from({ length: EVENTS }, (_, i) => `{"i": ${i}}`);
    d.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const data of expected) {
        res.write(`data: ${data}\n\n`);
        await sleep(GAP_MS); // 4.2 s in all: more than two idle budgets, never one silence
      }
      res.end('data: [DONE]\n\n');
    };
    const response = await rawPost(router, STREAM_BODY);
    expect(sseData(response.chunks)).toEqual([...expected, '[DONE]']);
  });

  it('a gzip stream flushed per event is never cut as idle either', async () => {
    const { d, router } = await setup(IDLE_MS);
    const expected = Array.from({ length: EVENTS }, (_, i) => `{"i": ${i}}`);
    d.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const gzip = createGzip();
      gzip.pipe(res);
      for (const data of expected) {
        gzip.write(`data: ${data}\n\n`);
        await new Promise<void>((resolve) => gzip.flush(constants.Z_SYNC_FLUSH, () => resolve()));
        await sleep(GAP_MS);
      }
      gzip.end('data: [DONE]\n\n');
    };
    const response = await rawPost(router, STREAM_BODY);
    expect(sseData(response.chunks)).toEqual([...expected, '[DONE]']);
  });
});
