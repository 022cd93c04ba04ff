import { describe, expect, it } from 'vitest';
import { plainDecimalRepr, pyFloatRepr } from './canonical-json-float.js';

// Expected values are Python 3's json.dumps(json.loads(lexeme)).
const TABLE: ReadonlyArray<readonly [string, string]> = [
  ['1.0', '1.0'],
  ['0.1', '0.1'],
  ['-0.0', '-0.0'],
  ['2.50', '2.5'],
  ['1e-5', '1e-05'],
  ['1E5', '100000.0'],
  ['1e16', '1e+16'],
  ['1e22', '1e+22'],
  ['1e-7', '1e-07'],
  ['9007199254740993.0', '9007199254740992.0'],
  ['5e-324', '5e-324'],
  ['4.9e-324', '5e-324'],
  ['2e-324', '0.0'],
  ['-2e-324', '-0.0'],
  ['1.7976931348623157e308', '1.7976931348623157e+308'],
  ['1.8e308', 'Infinity'],
  ['-1e400', '-Infinity'],
  ['3.14159265358979323846264338327950288', '3.141592653589793'],
  ['123.456e2', '12345.6'],
  ['1.5E+3', '1500.0'],
  ['-0.5e-1', '-0.05'],
  ['0.0001', '0.0001'],
  ['0.00001', '1e-05'],
  ['1234567890123456.0', '1234567890123456.0'],
  ['9999999999999998.0', '9999999999999998.0'],
  ['12345678901234567.0', '1.2345678901234568e+16'],
  ['0.30000000000000004', '0.30000000000000004'],
  ['1e100', '1e+100'],
  ['1.5e-7', '1.5e-07'],
  ['123e-20', '1.23e-18'],
  ['2.2250738585072014e-308', '2.2250738585072014e-308'],
  ['0e0', '0.0'],
  ['-0e-0', '-0.0'],
  ['1e15', '1000000000000000.0'],
  ['123456789012345678901234567890.0', '1.2345678901234568e+29'],
  ['9.999999999999999e-5', '9.999999999999999e-05'],
];

describe('pyFloatRepr', () => {
  it.each(TABLE)('%s → %s', (lexeme, expected) => {
    expect(pyFloatRepr(Number(lexeme))).toBe(expected);
  });

  it('prints NaN and the infinities as Python json does', () => {
    expect(pyFloatRepr(Number.NaN)).toBe('NaN');
    expect(pyFloatRepr(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(pyFloatRepr(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });
});

describe('plainDecimalRepr (fast path, must agree with pyFloatRepr)', () => {
  it.each([
    ['0.7', '0.7'],
    ['2.50', '2.5'],
    ['100.0', '100.0'],
    ['-0.000', '-0.0'],
    ['0.0001', '0.0001'],
    ['0.00001', undefined],
    ['123456789012345.0', '123456789012345.0'],
    ['1234567890123456.0', undefined],
    ['0.123456789012345', '0.123456789012345'],
    ['0.1234567890123456', undefined],
  ])('%s → %s', (lexeme, expected) => {
    expect(plainDecimalRepr(lexeme)).toBe(expected);
    if (expected !== undefined) expect(pyFloatRepr(Number(lexeme))).toBe(expected);
  });
});
