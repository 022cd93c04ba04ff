import { describe, expect, it } from 'vitest';
import { errorCodeOf, parseResponses } from './http-response-parser.js';

describe('parseResponses', () => {
  it('splits pipelined responses framed by length and by chunks', () => {
    const data = Buffer.from(
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi' +
        'HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1;x=y\r\nd\r\n0\r\n\r\n',
    );
    const { responses, incomplete } = parseResponses(data);
    expect(incomplete).toBe(false);
    expect(responses.map((r) => [r.status, r.body.toString()])).toEqual([
      [200, 'hi'],
      [400, 'abcd'],
    ]);
  });

  it('keeps interim 1xx responses and reads a body that ends with the connection', () => {
    const data = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nrest');
    const { responses } = parseResponses(data, true);
    expect(responses.map((r) => [r.status, r.version, r.body.toString()])).toEqual([
      [100, 'HTTP/1.1', ''],
      [200, 'HTTP/1.0', 'rest'],
    ]);
  });

  it('reports a response cut short', () => {
    expect(parseResponses(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc')).incomplete).toBe(
      true,
    );
  });
});

describe('errorCodeOf', () => {
  it('reads OpenAI-shaped codes, string or numeric, and nothing else', () => {
    expect(errorCodeOf('{"error":{"code":"PD_ERR_X"}}')).toBe('PD_ERR_X');
    expect(errorCodeOf('{"error":{"code":503}}')).toBe('503');
    expect(errorCodeOf('{"error":"Bad Request"}')).toBeUndefined();
    expect(errorCodeOf('not json')).toBeUndefined();
  });
});
