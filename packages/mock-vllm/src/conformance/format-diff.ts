/** Bytes of context shown on each side of the first difference. */
const CONTEXT_BEFORE_BYTES = 40;
const CONTEXT_AFTER_BYTES = 40;
const ELLIPSIS = '…'; // non-ASCII, so it cannot be mistaken for escaped body bytes

/** One byte as it is shown: printable ASCII as is, everything else escaped, so what is shown is exact. */
function escapeByte(b: number): string {
  switch (b) {
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    default:
      return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
}

export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += escapeByte(b);
  return out;
}

function describeByte(bytes: Uint8Array, at: number): string {
  const b = bytes[at];
  if (b === undefined) return 'end of body';
  return `0x${b.toString(16).padStart(2, '0')} '${escapeByte(b)}'`;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i === n && a.length === b.length ? -1 : i;
}

function window(bytes: Uint8Array, at: number): { text: string; caretColumn: number } {
  const start = Math.max(0, at - CONTEXT_BEFORE_BYTES);
  const end = Math.min(bytes.length, at + CONTEXT_AFTER_BYTES);
  const lead = start > 0 ? ELLIPSIS : '';
  const before = escapeBytes(bytes.subarray(start, at));
  const after = escapeBytes(bytes.subarray(at, end));
  return {
    text: `${lead}${before}${after}${end < bytes.length ? ELLIPSIS : ''}`,
    caretColumn: (lead + before).length,
  };
}

/**
 * A readable account of where two byte strings first differ: the offset (and line/column when the body
 * has several lines), the two bytes, and about 40 bytes of context around it from both sides, escaped,
 * with a caret under the first differing byte.
 *
 * @example
 * formatDiff(Buffer.from('{"max_tokens": 1}'), Buffer.from('{"max_tokens": 10}'))
 * // bodies differ at byte 16 (expected 17 bytes, actual 18 bytes): expected 0x7d '}', actual 0x30 '0'
 * //   expected: {"max_tokens": 1}
 * //   actual:   {"max_tokens": 10}
 * //                             ^
 */
export function formatDiff(expected: Uint8Array, actual: Uint8Array): string {
  const at = firstDifference(expected, actual);
  if (at < 0) return `bodies identical (${expected.length} bytes)`;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (expected[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const where = line > 1 ? `line ${line}, column ${at - lineStart + 1}; ` : '';
  const exp = window(expected, at);
  const act = window(actual, at);
  // Both windows share the bytes before `at`, so the caret lines up under both.
  const caret = ' '.repeat('  expected: '.length + exp.caretColumn);
  return [
    `bodies differ at byte ${at} (${where}expected ${expected.length} bytes, actual ${actual.length} bytes): ` +
      `expected ${describeByte(expected, at)}, actual ${describeByte(actual, at)}`,
    `  expected: ${exp.text}`,
    `  actual:   ${act.text}`,
    `${caret}^`,
  ].join('\n');
}
