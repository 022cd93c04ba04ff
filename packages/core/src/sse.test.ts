import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSseData, formatSseEvent, SSE_DONE, type SseEvent, SseParser } from './sse.js';

const encoder = new TextEncoder();

function parseAll(chunks: readonly (string | Uint8Array)[]): SseEvent[] {
  const parser = new SseParser();
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.end()];
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed). */
function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

describe('SseParser', () => {
  it.each([
    ['LF', 'data: a\n\ndata: b\n\n'],
    ['CRLF', 'data: a\r\n\r\ndata: b\r\n\r\n'],
    ['CR', 'data: a\r\rdata: b\r\r'],
    ['mixed', 'data: a\r\n\ndata: b\r\r\n'],
  ])('splits lines on %s', (_, stream) => {
    expect(parseAll([stream])).toEqual([{ data: 'a' }, { data: 'b' }]);
  });

  it('keeps a CRLF split across chunks as one line break, and a lone CR as a break', () => {
    expect(parseAll(['data: a\r', '\n\r', '\n'])).toEqual([{ data: 'a' }]);
    // "\r" ends the line at once; the next chunk not starting with "\n" is a new line.
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\r')).toEqual([{ data: 'a' }]);
    expect(parser.push('\ndata: b\n\n')).toEqual([{ data: 'b' }]);
  });

  it('delivers each event as soon as its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"a":')).toEqual([]);
    expect(parser.push('1}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ data: '{"a":1}' }]);
  });

  it('reads fields per spec', () => {
    const stream = [
      ': a comment',
      'data:no-space',
      'data:  two spaces',
      'data',
      'unknown: field',
      'event: completion',
      'id: 42',
      'retry: 1500',
      '',
      'data: x',
      'event:',
      'id: bad\0id',
      'retry: 15s',
      '',
      '',
      'id: only-id',
      'retry: 1',
      'event: no-data',
      '',
      'data:',
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\n');
    expect(parseAll([stream])).toEqual([
      { data: 'no-space\n two spaces\n', event: 'completion', id: '42', retry: 1500 },
      { data: 'x' },
      { data: '' },
      { data: '[DONE]' },
    ]);
  });

  it('treats field names as case-sensitive and keeps colons in values', () => {
    expect(parseAll(['Data: x\ndata: a:b: c\n\n'])).toEqual([{ data: 'a:b: c' }]);
  });

  it('drops one BOM at the start of the stream only', () => {
    expect(parseAll(['\uFEFFdata: a\n\n'])).toEqual([{ data: 'a' }]);
    expect(parseAll(['\uFEFF\uFEFFdata: a\n\n'])).toEqual([]); // the second BOM is part of the field name
    expect(parseAll(['data: \uFEFFa\n\n'])).toEqual([{ data: '\uFEFFa' }]);
    expect(parseAll(['', '\uFEFF', 'data: a\n\n'])).toEqual([{ data: 'a' }]);
    const bytes = encoder.encode('\uFEFFdata: a\n\n');
    expect(parseAll([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])).toEqual([
      { data: 'a' },
    ]);
  });

  it('decodes UTF-8 split anywhere, including inside a character', () => {
    const bytes = encoder.encode('data: héllo 😀 €\n\n');
    for (let i = 0; i <= bytes.length; i++) {
      expect(parseAll([bytes.subarray(0, i), bytes.subarray(i)])).toEqual([{ data: 'héllo 😀 €' }]);
    }
    expect(parseAll([...bytes].map((b) => Uint8Array.of(b)))).toEqual([{ data: 'héllo 😀 €' }]);
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    expect(parseAll([Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0xe4, 0xb8, 0x0a, 0x0a)])).toEqual([
      { data: '\uFFFD\uFFFD' },
    ]);
    // A string chunk cannot continue a character: the dangling bytes become U+FFFD first.
    expect(parseAll([encoder.encode('data: a').slice(), Uint8Array.of(0xe2, 0x82), 'b\n\n'])).toEqual([
      { data: 'a\uFFFDb' },
    ]);
  });

  it('end() discards an unterminated event, reports nothing and resets', () => {
    const parser = new SseParser();
    expect(parser.pending).toBe(false);
    expect(parser.push('data: complete\n\ndata: cut')).toEqual([{ data: 'complete' }]);
    expect(parser.pending).toBe(true);
    expect(parser.end()).toEqual([]);
    expect(parser.pending).toBe(false);
    expect(parser.push('\uFEFFdata: next stream\n\n')).toEqual([{ data: 'next stream' }]);
  });

  it('pending tells a clean end from a truncated one', () => {
    const cases: [readonly (string | Uint8Array)[], boolean][] = [
      [['data: a\n\n'], false],
      [['data: a\n\n: trailing comment\n'], false],
      [['data: a\n'], true],
      [['event: x\n'], true],
      [['id: 1\n'], true],
      [['data: a'], true],
      [['data: a\r\n\r'], false],
      [[encoder.encode('data: a\n\n'), Uint8Array.of(0xe2, 0x82)], true],
      [[encoder.encode('data: a\n\n'), Uint8Array.of(0xf0), Uint8Array.of(0x9f, 0x98)], true],
      [[encoder.encode('data: a\n\n'), Uint8Array.of(0xe2, 0x82, 0xac)], true], // a line in progress
      [[encoder.encode('data: a\n\n'), Uint8Array.of(0xe0, 0x80)], true], // U+FFFD x2, a line in progress
      [[Uint8Array.of(0x0a, 0x0a, 0xe2), Uint8Array.of()], true],
    ];
    for (const [chunks, pending] of cases) {
      const parser = new SseParser();
      for (const chunk of chunks) parser.push(chunk);
      expect([chunks, parser.pending]).toEqual([chunks, pending]);
    }
  });
});

describe('formatSseEvent / formatSseData / SSE_DONE', () => {
  it('formats data-only events', () => {
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
    expect(formatSseData('[DONE]')).toBe(SSE_DONE);
    expect(formatSseData('')).toBe('data: \n\n');
    expect(formatSseData(' x')).toBe('data:  x\n\n');
    expect(formatSseData('a\nb\r\nc\rd\n')).toBe('data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n');
  });

  it('formats every field', () => {
    expect(formatSseEvent({ data: 'a\nb', event: 'ping', id: '7', retry: 3000 })).toEqual({
      ok: true,
      value: 'event: ping\nid: 7\nretry: 3000\ndata: a\ndata: b\n\n',
    });
    expect(formatSseEvent({ data: 'x', event: '', id: '' })).toEqual({
      ok: true,
      value: 'id: \ndata: x\n\n',
    });
  });

  it.each<[SseEvent, string]>([
    [{ data: 'x', event: 'a\nevent: b' }, 'SSE field "event" contains CR or LF'],
    [{ data: 'x', event: 'a\r' }, 'SSE field "event" contains CR or LF'],
    [{ data: 'x', id: '1\n\ndata: injected' }, 'SSE field "id" contains CR or LF'],
    [{ data: 'x', id: 'a\0' }, 'SSE field "id" contains NUL'],
    [{ data: 'x', retry: -1 }, 'SSE field "retry" is not a non-negative integer'],
    [{ data: 'x', retry: 1.5 }, 'SSE field "retry" is not a non-negative integer'],
    [{ data: 'x', retry: Number.NaN }, 'SSE field "retry" is not a non-negative integer'],
  ])('rejects %j', (event, message) => {
    const r = formatSseEvent(event);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('PD_ERR_SSE_FIELD_INVALID');
    expect(r.error.message).toBe(message);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const noBreak = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n]/.test(s));
const sseEvent: fc.Arbitrary<SseEvent> = fc
  .record(
    {
      data: fc.array(noBreak, { minLength: 1, maxLength: 4 }).map((lines) => lines.join('\n')),
      event: noBreak.filter((s) => s !== ''),
      id: noBreak.filter((s) => !s.includes('\0')),
      retry: fc.nat(),
    },
    { requiredKeys: ['data'] },
  )
  .map((e) => e as SseEvent);
const comment = noBreak.map((s) => `:${s}\n`);
const lineEnd = fc.constantFrom('\n', '\r\n', '\r');

/** A stream of events with comments between them, one line-end style, maybe a BOM. */
const validStream = fc
  .tuple(fc.array(fc.tuple(sseEvent, fc.option(comment)), { maxLength: 8 }), lineEnd, fc.boolean())
  .map(([items, end, bom]) => {
    let text = bom ? '\uFEFF' : '';
    for (const [event, note] of items) {
      const formatted = formatSseEvent(event);
      if (!formatted.ok) throw formatted.error;
      text += (note ?? '') + formatted.value;
    }
    return { events: items.map(([event]) => event), text: text.replaceAll('\n', end) };
  });

/** Arbitrary text built from SSE-ish pieces, well-formed or not. */
const anyStream = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'data',
        'data:',
        'data: ',
        'event: e',
        'id: 1',
        'retry: 9',
        ':',
        '\n',
        '\r',
        '\r\n',
        '\uFEFF',
      ),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe('SseParser properties', () => {
  it('parses formatted events back, whatever the line-end style (round trip)', () => {
    fc.assert(
      fc.property(validStream, ({ events, text }) => {
        expect(parseAll([text])).toEqual(events);
      }),
      { numRuns: 1_000 },
    );
  });

  it('yields the same events for any split of a valid stream into byte or string chunks', () => {
    fc.assert(
      fc.property(validStream, cuts, ({ events, text }, at) => {
        expect(parseAll(splitAt(encoder.encode(text), at))).toEqual(events);
        const stringChunks = [...new Set(at.map((c) => c % (text.length + 1)))]
          .sort((a, b) => a - b)
          .concat(text.length)
          .map((end, i, ends) => text.slice(i === 0 ? 0 : ends[i - 1], end));
        expect(parseAll(stringChunks)).toEqual(events);
      }),
      { numRuns: 1_000 },
    );
  });

  it('yields the same events for any split of arbitrary input', () => {
    fc.assert(
      fc.property(anyStream, cuts, (text, at) => {
        const bytes = encoder.encode(text);
        const whole = new SseParser();
        const expected = whole.push(bytes);
        const split = new SseParser();
        expect(splitAt(bytes, at).flatMap((chunk) => split.push(chunk))).toEqual(expected);
        expect(split.pending).toBe(whole.pending);
      }),
      { numRuns: 2_000 },
    );
  });

  it('pending is true whenever bytes follow the last blank line, even a split partial character', () => {
    const high = fc.uint8Array({ min: 0x80, max: 0xff, maxLength: 4 });
    fc.assert(
      fc.property(high, cuts, (tail, at) => {
        const parser = new SseParser();
        parser.push('data: a\n\n');
        for (const chunk of splitAt(tail, at)) parser.push(chunk);
        expect(parser.pending).toBe(tail.length > 0);
      }),
      { numRuns: 2_000 },
    );
  });
});
