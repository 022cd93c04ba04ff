import {
  type BadInputCase,
  chunkedBody,
  GOOD,
  HOST,
  JSON_CT,
  ok,
  parserRejects,
  postJson,
  request,
} from './bad-input-wire.js';

/** Bodies in transit: chunked and oversized bodies, and bytes of the header block. */
export const HTTP_BODY_CASES: readonly BadInputCase[] = [
  // Chunked request bodies.
  {
    name: 'chunked-body',
    title: 'chunked body, 7-byte chunks',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Transfer-Encoding', 'chunked']],
          chunkedBody(GOOD, 7),
        ),
      ],
    },
    expect: ok,
  },
  {
    name: 'chunked-one-byte-chunks',
    title: 'chunked body, 1-byte chunks sent 1 ms apart',
    send: {
      parts: [
        'POST /v1/completions HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        ...(chunkedBody(GOOD, 1).match(/[^\n]*\n[^\n]*\n/g) ?? []),
      ],
      gapMs: 1,
    },
    expect: ok,
  },
  {
    name: 'chunked-extensions',
    title: 'chunk extensions `;ext=1`',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Transfer-Encoding', 'chunked']],
          chunkedBody(GOOD, 10, ';ext=1'),
        ),
      ],
    },
    expect: ok,
  },
  {
    name: 'chunked-bad-size',
    title: 'chunk size `zz`',
    send: {
      parts: [
        request(
          'POST /v1/completions HTTP/1.1',
          [HOST, JSON_CT, ['Transfer-Encoding', 'chunked']],
          'zz\r\nabc\r\n0\r\n\r\n',
        ),
      ],
    },
    expect: parserRejects,
  },
  // Oversized bodies: answered before the client has finished sending.
  {
    name: 'oversized-content-length',
    title: 'Content-Length 20 MiB announced, body sent slowly in 64 KiB parts',
    send: {
      parts: [
        request('POST /v1/completions HTTP/1.1', [HOST, JSON_CT, ['Content-Length', String(20 * 1_048_576)]]),
        ...Array.from({ length: 320 }, () => Buffer.alloc(65_536, 0x20)),
      ],
      gapMs: 5,
      stopWritingOnResponse: true,
    },
    expect: { status: [413], code: 'PD_ERR_PAYLOAD_TOO_LARGE', answeredEarly: true },
  },
  {
    name: 'oversized-chunked',
    title: 'chunked body growing past 16 MiB, sent in 1 MiB chunks',
    send: {
      parts: [
        'POST /v1/completions HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        ...Array.from({ length: 40 }, () =>
          Buffer.concat([Buffer.from('100000\r\n'), Buffer.alloc(1_048_576, 0x20), Buffer.from('\r\n')]),
        ),
        '0\r\n\r\n',
      ],
      gapMs: 5,
      stopWritingOnResponse: true,
    },
    expect: { status: [413], code: 'PD_ERR_PAYLOAD_TOO_LARGE', answeredEarly: true },
  },
  // Header values with CR/LF and other framing errors.
  {
    name: 'header-bare-cr',
    title: 'bare CR inside a header value',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nX-A: a\rb\r\nContent-Type: application/json\r\nContent-Length: ${GOOD.length}\r\n\r\n${GOOD}`,
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'header-bare-lf',
    title: 'bare LF line ending inside the head',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nX-A: a\nX-B: b\r\nContent-Type: application/json\r\nContent-Length: ${GOOD.length}\r\n\r\n${GOOD}`,
      ],
    },
    expect: { status: [200, 400] },
  },
  {
    name: 'header-nul',
    title: 'NUL byte inside a header value',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nX-A: a\u0000b\r\nContent-Type: application/json\r\nContent-Length: ${GOOD.length}\r\n\r\n${GOOD}`,
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'header-obs-fold',
    title: 'obs-fold (header continued on an indented line)',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nX-A: a\r\n b\r\nContent-Type: application/json\r\nContent-Length: ${GOOD.length}\r\n\r\n${GOOD}`,
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'header-name-space',
    title: 'space inside a header name',
    send: {
      parts: [
        `POST /v1/completions HTTP/1.1\r\nHost: r\r\nX A: 1\r\nContent-Type: application/json\r\nContent-Length: ${GOOD.length}\r\n\r\n${GOOD}`,
      ],
    },
    expect: parserRejects,
  },
  {
    name: 'header-too-large',
    title: "a 20 KB header (over Node's 16 KiB head limit)",
    send: { parts: [postJson(GOOD, [JSON_CT, ['X-Big', 'x'.repeat(20_000)]])] },
    expect: { status: [431], code: 'PD_ERR_BAD_REQUEST' },
  },
];
