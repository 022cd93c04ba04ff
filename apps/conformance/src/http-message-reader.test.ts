import { describe, expect, it } from 'vitest';
import { HttpMessageReader, type StreamedMessage } from './http-message-reader.js';

function readAll(kind: 'request' | 'response', wire: string, splitEvery?: number): StreamedMessage[] {
  const messages: StreamedMessage[] = [];
  const reader = new HttpMessageReader(kind, (m) => messages.push(m));
  const bytes = Buffer.from(wire, 'latin1');
  const step = splitEvery ?? bytes.length;
  for (let i = 0; i < bytes.length; i += step) reader.push(bytes.subarray(i, i + step));
  reader.end();
  return messages;
}

const KEEP_ALIVE_PAIR =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}' +
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
  '6\r\ndata: \r\n' +
  'b;ext=1\r\n{"x":"é"}\n\n\r\n' +
  '0\r\nx-trailer: 1\r\n\r\n';

describe('HttpMessageReader', () => {
  it('reads Content-Length and chunked answers on one connection, at any split', () => {
    for (const split of [undefined, 1, 2, 3, 7]) {
      const [json, sse, ...rest] = readAll('response', KEEP_ALIVE_PAIR, split);
      expect(rest).toEqual([]);
      expect(json?.startLine).toBe('HTTP/1.1 200 OK');
      expect(json?.body.toString('latin1')).toBe('{"a":1}');
      expect(sse?.headers).toContainEqual(['content-type', 'text/event-stream']);
      expect(sse?.body.toString('latin1')).toBe('data: {"x":"é"}\n\n');
    }
  });

  it('keeps header names in wire order and case, values trimmed', () => {
    const [m] = readAll(
      'request',
      'POST /v1/completions HTTP/1.1\r\nX-Request-Id:  abc \r\nHost: h:1\r\n\r\n',
    );
    expect(m?.headers).toEqual([
      ['X-Request-Id', 'abc'],
      ['Host', 'h:1'],
    ]);
    expect(m?.body.length).toBe(0);
  });

  it('reads an answer without length until the connection closes; none for 204', () => {
    const messages = readAll('response', 'HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\nall of it');
    expect(messages.map((m) => [m.startLine, m.body.toString('latin1')])).toEqual([
      ['HTTP/1.1 204 No Content', ''],
      ['HTTP/1.1 200 OK', 'all of it'],
    ]);
  });

  it('throws on a malformed head', () => {
    expect(() => readAll('request', 'POST / HTTP/1.1\r\nno colon here\r\n\r\n')).toThrow(/malformed header/);
    expect(() => readAll('request', 'POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n')).toThrow(
      /Content-Length/,
    );
  });
});
