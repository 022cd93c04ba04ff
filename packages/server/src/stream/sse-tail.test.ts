import { SseParser } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { endsEvent, NOTHING_SENT_TAIL, withTail } from './sse-tail.js';

function tailOf(...pieces: string[]): number {
  let tail = NOTHING_SENT_TAIL;
  for (const piece of pieces) tail = withTail(tail, Buffer.from(piece, 'latin1'));
  return tail;
}

/** What a spec SSE parser says: does an event written next start an event of its own? */
function parserAgrees(text: string): boolean {
  const parser = new SseParser();
  parser.push(text);
  const events = [...parser.push('data: next\n\n'), ...parser.end()];
  return events.at(-1)?.data === 'next';
}

describe('SSE tail tracking', () => {
  it.each([
    ['', true],
    ['data: {"a":1}\n\n', true],
    ['data: {"a":1}\r\n\r\n', true],
    ['data: {"a":1}\r\r', true],
    ['data: {"a":1}\n\r\n', true],
    ['data: {"a":1}\r\n\n', true],
    ['data: {"a":1}\n\r', true],
    ['data: {"a":1}\r\r\n', true],
    ['data: {"a":1}\n', false],
    ['data: {"a":1}\r\n', false],
    ['data: {"a":1}\r', false],
    ['data: {"a":1}\n\ndata: {"b"', false],
    ['data: {"a":1}\n\ndata: {"b": 2}\n', false],
    ['\n', true],
    ['x', false],
  ])('%j ends an event: %s', (text, expected) => {
    expect(endsEvent(tailOf(text))).toBe(expected);
    expect(parserAgrees(text)).toBe(expected);
  });

  it('follows the last bytes across pieces of any size', () => {
    const text = 'data: {"a":1}\r\n\r\n';
    for (let cut = 0; cut <= text.length; cut++) {
      expect(endsEvent(tailOf(text.slice(0, cut), text.slice(cut)))).toBe(true);
      expect(endsEvent(tailOf(...text.split('')))).toBe(true);
    }
    expect(endsEvent(tailOf('data: x\n\n', 'd', 'a'))).toBe(false);
    expect(endsEvent(tailOf('data: x', '\r', '\n', '\r', '\n'))).toBe(true);
    expect(endsEvent(tailOf('data: x', '\r', '\n'))).toBe(false);
  });
});
