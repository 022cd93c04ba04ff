import { describe, expect, test } from 'vitest';
import { escapeBytes, formatDiff } from './format-diff.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('formatDiff', () => {
  test('names the first differing byte, both sides, with context and a caret', () => {
    const expected = bytes(
      '{"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 1, "temperature": 0.7}',
    );
    const actual = bytes(
      '{"model": "meta-llama/Meta-Llama-3.1-8B-Instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 10, "temperature": 0.7}',
    );
    expect(formatDiff(expected, actual)).toMatchInlineSnapshot(`
      "bodies differ at byte 143 (expected 164 bytes, actual 165 bytes): expected 0x2c ',', actual 0x30 '0'
        expected: …e capital of France?"}], "max_tokens": 1, "temperature": 0.7}
        actual:   …e capital of France?"}], "max_tokens": 10, "temperature": 0.7}
                                                           ^"
    `);
  });

  test('escapes control and non-ASCII bytes and reports line and column in multi-line bodies', () => {
    const out = formatDiff(bytes('{\r\n  "a": "é"\n}'), bytes('{\r\n  "a": "e"\n}'));
    expect(out).toMatchInlineSnapshot(`
      "bodies differ at byte 11 (line 2, column 9; expected 16 bytes, actual 15 bytes): expected 0xc3 '\\xc3', actual 0x65 'e'
        expected: {\\r\\n  "a": "\\xc3\\xa9"\\n}
        actual:   {\\r\\n  "a": "e"\\n}
                               ^"
    `);
  });

  test('a body that ends early is described as such', () => {
    expect(formatDiff(bytes('{"a": 1}'), bytes('{"a": 1'))).toContain(
      "expected 0x7d '}', actual end of body",
    );
  });

  test('the JSDoc example is what it prints', () => {
    expect(formatDiff(bytes('{"max_tokens": 1}'), bytes('{"max_tokens": 10}'))).toBe(
      [
        "bodies differ at byte 16 (expected 17 bytes, actual 18 bytes): expected 0x7d '}', actual 0x30 '0'",
        '  expected: {"max_tokens": 1}',
        '  actual:   {"max_tokens": 10}',
        `${' '.repeat(28)}^`,
      ].join('\n'),
    );
  });

  test('identical bodies say so', () => {
    expect(formatDiff(bytes('{}'), bytes('{}'))).toBe('bodies identical (2 bytes)');
  });

  test('escaping is exact per byte', () => {
    expect(escapeBytes(new Uint8Array([0x41, 0x5c, 0x0a, 0x0d, 0x09, 0x00, 0x7f, 0xff]))).toBe(
      'A\\\\\\n\\r\\t\\x00\\x7f\\xff',
    );
  });
});
