import {
  type BadInputCase,
  chunkedBody,
  GOOD,
  HOST,
  JSON_CT,
  notFound,
  ok,
  parserRejects,
  postJson,
  request,
} from './bad-input-wire.js';

/** The request line and framing: paths, methods, smuggling shapes, protocol versions, pipelining. */
export const REQUEST_LINE_CASES: readonly BadInputCase[] = [
  // Odd paths.
  {
    name: 'path-double-slash',
    title: '`//v1/completions`',
    send: { parts: [postJson(GOOD, [JSON_CT], '//v1/completions')] },
    expect: notFound,
  },
  {
    name: 'path-trailing-slash',
    title: '`/v1/completions/`',
    send: { parts: [postJson(GOOD, [JSON_CT], '/v1/completions/')] },
    expect: notFound,
  },
  {
    name: 'path-dot-dot-encoded',
    title: '`/v1/%2e%2e/v1/completions`',
    send: { parts: [postJson(GOOD, [JSON_CT], '/v1/%2e%2e/v1/completions')] },
    expect: notFound,
  },
  {
    name: 'path-dot-dot',
    title: '`/x/../v1/completions` (not normalized)',
    send: { parts: [postJson(GOOD, [JSON_CT], '/x/../v1/completions')] },
    expect: notFound,
  },
  {
    name: 'path-upper-case',
    title: '`/V1/COMPLETIONS`',
    send: { parts: [postJson(GOOD, [JSON_CT], '/V1/COMPLETIONS')] },
    expect: notFound,
  },
  {
    name: 'path-query',
    title: '`/v1/completions?debug=1` (query dropped)',
    send: { parts: [postJson(GOOD, [JSON_CT], '/v1/completions?debug=1')] },
    expect: ok,
  },
  {
    name: 'path-bad-percent',
    title: '`/v1/completions%zz`',
    send: { parts: [postJson(GOOD, [JSON_CT], '/v1/completions%zz')] },
    expect: { status: [400], code: 'PD_ERR_BAD_REQUEST' },
  },
  {
    name: 'path-encoded-nul',
    title: '`/v1/completions%00`',
    send: { parts: [postJson(GOOD, [JSON_CT], '/v1/completions%00')] },
    expect: { status: [400, 404] },
  },
  {
    name: 'path-very-long',
    title: 'a 15,000-character path',
    send: { parts: [postJson(GOOD, [JSON_CT], `/v1/${'a'.repeat(15_000)}`)] },
    expect: notFound,
  },
  {
    name: 'path-absolute-form',
    title:
      'absolute-form target `http://evil.test/v1/completions`: routed by its path to the configured workers, never to evil.test',
    send: { parts: [postJson(GOOD, [JSON_CT], 'http://evil.test/v1/completions')] },
    expect: ok,
  },
  {
    name: 'method-get',
    title: '`GET /v1/completions`',
    send: { parts: [request('GET /v1/completions HTTP/1.1', [HOST])] },
    expect: { status: [405], code: 'PD_ERR_METHOD_NOT_ALLOWED' },
  },
  {
    name: 'method-unknown',
    title: 'unknown method `FOO`',
    send: { parts: [request('FOO /v1/completions HTTP/1.1', [HOST])] },
    expect: parserRejects,
  },
  // Request smuggling shapes.
  {
    name: 'smuggle-cl-te',
    title: 'Content-Length and Transfer-Encoding: chunked together',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Content-Length', '4'], ['Transfer-Encoding', 'chunked']],
          chunkedBody(GOOD, 16),
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-te-cl',
    title: 'Transfer-Encoding before Content-Length',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Transfer-Encoding', 'chunked'], ['Content-Length', '4']],
          chunkedBody(GOOD, 16),
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-duplicate-cl',
    title: 'two different Content-Length headers',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Content-Length', String(GOOD.length)], ['Content-Length', '5']],
          GOOD,
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-duplicate-cl-same',
    title: 'the same Content-Length twice',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Content-Length', String(GOOD.length)], ['Content-Length', String(GOOD.length)]],
          GOOD,
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-te-not-final-chunked',
    title: '`Transfer-Encoding: chunked, identity`',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Transfer-Encoding', 'chunked, identity']],
          chunkedBody(GOOD, 16),
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-te-obs-fold',
    title: 'Transfer-Encoding value on an obs-fold line',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nTransfer-Encoding:\r\n chunked\r\n\r\n${chunkedBody(GOOD, 16)}`,
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-cl-plus',
    title: 'Content-Length `+5`',
    send: {
      parts: [request('POST /v1/completions HTTP/1.1', [HOST, JSON_CT, ['Content-Length', '+5']], '{"a":')],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-cl-negative',
    title: 'Content-Length `-1`',
    send: { parts: [request('POST /v1/completions HTTP/1.1', [HOST, JSON_CT, ['Content-Length', '-1']])] },
    expect: parserRejects,
  },
  {
    name: 'smuggle-cl-short',
    title:
      'bytes after the Content-Length body that do not parse as a request: the connection is refused and closed (the first answer is dropped with it)',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Content-Length', String(GOOD.length)]],
          `${GOOD}GARBAGE / HTTP/1.1\r\nHost: r\r\n\r\n`,
        ),
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'smuggle-cl-then-request',
    title: 'a second request hidden after the Content-Length body is answered as its own request',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Content-Length', String(GOOD.length)]],
          `${GOOD}GET /v1/completions HTTP/1.1\r\nHost: r\r\n\r\n`,
        ),
      ],
      responses: 2,
    },
    expect: { status: [200], statuses: [200, 405] },
  },
  // Protocol versions and connection handling.
  {
    name: 'http-1.0',
    title: 'HTTP/1.0 POST with Content-Length',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.0',
          [HOST, JSON_CT, ['Content-Length', String(GOOD.length)]],
          GOOD,
        ),
      ],
    },
    expect: ok,
  },
  {
    name: 'http-1.1-no-host',
    title: 'HTTP/1.1 without Host (Node answers it itself, with an empty body)',
    send: {
      parts: [
        request('POST /v1/completions HTTP/1.1', [JSON_CT, ['Content-Length', String(GOOD.length)]], GOOD),
      ],
    },
    expect: { status: [400] },
  },
  {
    name: 'http-0.9',
    title: 'HTTP/0.9-style `GET /` (no version)',
    send: { parts: ['GET /\r\n\r\n'] },
    expect: { status: [400, 404] },
  },
  {
    name: 'http-2-preface',
    title: 'HTTP/2 connection preface on the HTTP/1 port',
    send: { parts: ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'] },
    expect: parserRejects,
  },
  {
    name: 'pipelined-two',
    title: 'two POSTs pipelined on one connection',
    send: { parts: [Buffer.concat([postJson(GOOD), postJson(GOOD)])], responses: 2 },
    expect: { status: [200], statuses: [200, 200] },
  },
  {
    name: 'pipelined-bad-then-good',
    title: 'malformed JSON then a good POST, pipelined',
    send: { parts: [Buffer.concat([postJson('{'), postJson(GOOD)])], responses: 2 },
    expect: { status: [400], statuses: [400, 200] },
  },
  {
    name: 'expect-100-continue',
    title: '`Expect: 100-continue`',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Expect', '100-continue'], ['Content-Length', String(GOOD.length)]],
          GOOD,
        ),
      ],
    },
    expect: ok,
  },
  {
    name: 'expect-unknown',
    title: '`Expect: teapot`',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Expect', 'teapot'], ['Content-Length', String(GOOD.length)]],
          GOOD,
        ),
      ],
    },
    expect: { status: [417] },
  },
];
