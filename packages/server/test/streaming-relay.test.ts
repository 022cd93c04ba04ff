import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { e2eKit, gate, heldStream, jsonAnswer, postCompletion } from './helpers.js';

const kit = e2eKit();

const setup = () => kit.pair();

const STREAM_BODY = '{"model": "m", "prompt": "hi", "max_tokens": 5, "stream": true}';

describe('streaming relay', () => {
  it('relays each SSE event as it arrives: the first reaches the client before the decode has finished', async () => {
    const { d, router } = await setup();
    const held = gate();
    d.handler = heldStream('data: {"n": 1}\n\n', held, 'data: {"n": 2}\n\ndata: [DONE]\n\n');
    const res = await postCompletion(router, STREAM_BODY);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    // The decode is still blocked on the gate: this byte was relayed, not buffered.
    expect(Buffer.from(first.value as Buffer).toString()).toBe('data: {"n": 1}\n\n');
    held.open();
    let rest = '';
    for (let r = await it.next(); !r.done; r = await it.next())
      rest += Buffer.from(r.value as Buffer).toString();
    expect(rest).toBe('data: {"n": 2}\n\ndata: [DONE]\n\n');
  });

  it('drains a streamed prefill completely before the decode starts', async () => {
    const { p, d, router } = await setup();
    let prefillEnded = 0;
    p.handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"p": 1, "choices": [{"finish_reason": null}]}\n\n');
      await new Promise((r) => setTimeout(r, 200));
      res.write('data: {"p": 2, "choices": [{"finish_reason": "length"}]}\n\n');
      prefillEnded = performance.now();
      res.end('data: [DONE]\n\n');
    };
    d.handler = jsonAnswer({ d: true });
    const res = await postCompletion(router, STREAM_BODY);
    expect(await res.body.json()).toEqual({ d: true });
    expect(d.received[0]?.at).toBeGreaterThanOrEqual(prefillEnded);
  });

  it('decompresses a gzip decode answer for the client (we asked for gzip, the client did not)', async () => {
    const { d, router } = await setup();
    const text = 'data: {"n": 1}\n\n'.repeat(200);
    d.handler = (_req, res) => {
      const gz = gzipSync(text);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.write(gz.subarray(0, 10));
      res.end(gz.subarray(10));
    };
    const res = await postCompletion(router, STREAM_BODY);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-length']).toBeUndefined();
    expect(await res.body.text()).toBe(text);
  });

  it('passes the decode Content-Length through when the body is not re-encoded', async () => {
    const { router } = await setup();
    const res = await postCompletion(router, STREAM_BODY);
    expect(res.headers['content-length']).toBe(String('{"decode":true}'.length));
    expect(await res.body.text()).toBe('{"decode":true}');
  });
});
