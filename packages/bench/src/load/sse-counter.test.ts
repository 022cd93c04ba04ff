import { describe, expect, it } from 'vitest';
import { SseCounter, type SseEventKind } from './sse-counter.js';

function count(chunks: string[]): SseEventKind[] {
  const c = new SseCounter();
  const kinds: SseEventKind[] = [];
  for (const chunk of chunks) c.push(Buffer.from(chunk, 'utf8'), (k) => kinds.push(k));
  return kinds;
}

const STREAM =
  'data: {"id":"chatcmpl-1","choices":[{"delta":{"content":"Par"}}]}\n\n' +
  'data: {"id":"chatcmpl-1","choices":[{"delta":{"content":"is"}}]}\n\n' +
  'data: [DONE]\n\n';

describe('SseCounter', () => {
  it('counts token events and the terminator', () => {
    expect(count([STREAM])).toEqual(['token', 'token', 'done']);
  });

  it('gives the same answer for every split point', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      expect(count([STREAM.slice(0, at), STREAM.slice(at)])).toEqual(['token', 'token', 'done']);
    }
  });

  it('accepts one byte at a time, CRLF and CR line ends', () => {
    expect(count(STREAM.replaceAll('\n', '\r\n').split(''))).toEqual(['token', 'token', 'done']);
    expect(count([STREAM.replaceAll('\n', '\r')])).toEqual(['token', 'token', 'done']);
  });

  it('recognises an error event, data without a space, comments and multi-line data', () => {
    const text =
      ': keep-alive comment\n\n' +
      'data:{"a":1}\n\n' +
      'event: message\ndata: {"b":\ndata: 2}\n\n' +
      'data: {"error": {"message": "upstream reset", "code": "PD_ERR_X"}}\n\n';
    expect(count([text])).toEqual(['token', 'token', 'error']);
  });

  it('does not dispatch an unterminated event', () => {
    expect(count(['data: {"a":1}\n'])).toEqual([]);
  });
});

describe('SseCounter mixed framing', () => {
  it('handles a CR that arrives at the end of one chunk and its LF in the next', () => {
    expect(count(['data: {"a":1}\r', '\n\r', '\ndata: [DONE]\n\n'])).toEqual(['token', 'done']);
  });

  it('keeps the prefix of a line split over many LF-only chunks', () => {
    expect(count(['da', 'ta: {"er', 'ror": 1}', '\n', '\n'])).toEqual(['error']);
    expect(count(['data: [D', 'ONE]\n\n'])).toEqual(['done']);
  });

  it('accepts plain Uint8Array chunks', () => {
    const c = new SseCounter();
    const kinds: SseEventKind[] = [];
    c.push(new TextEncoder().encode(STREAM), (k) => kinds.push(k));
    expect(kinds).toEqual(['token', 'token', 'done']);
  });
});
