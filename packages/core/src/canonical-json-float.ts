/**
 * Python's `float.__repr__` for a double. Both Python's repr and JavaScript's Number-to-string
 * choose the shortest digit string that round-trips (the one closest to the exact value when
 * several qualify), so the digits come from JavaScript and only the layout is Python's:
 * exponent form when the decimal exponent is below -4 or at least 16 (`1e-05`, `1e+16`,
 * `1.5e+300`), otherwise a plain decimal with at least one fractional digit (`100000.0`).
 *
 * @example pyFloatRepr(1e16) // '1e+16'
 * @example pyFloatRepr(-0) // '-0.0'
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'Infinity';
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const negative = x < 0;
  // toExponential() without an argument gives the shortest round-trip digits as "d.ddde±N".
  const sci = (negative ? -x : x).toExponential();
  const ePos = sci.indexOf('e');
  const digits = ePos === 1 ? sci.slice(0, 1) : sci.slice(0, 1) + sci.slice(2, ePos);
  const exp = Number(sci.slice(ePos + 1));
  let body: string;
  if (exp < -4 || exp >= 16) {
    const mantissa = digits.length === 1 ? digits : digits.slice(0, 1) + '.' + digits.slice(1);
    const absExp = exp < 0 ? -exp : exp;
    body = mantissa + (exp < 0 ? 'e-' : 'e+') + (absExp < 10 ? '0' : '') + absExp;
  } else if (exp < 0) {
    body = '0.' + '0'.repeat(-exp - 1) + digits;
  } else if (exp + 1 >= digits.length) {
    body = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
  } else {
    body = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  return negative ? '-' + body : body;
}

/**
 * Fast path for the common lexeme `-?\d+\.\d+` (no exponent) with at most 15 significant digits
 * and a value of 0 or at least 1e-4: its repr is the lexeme without trailing fractional zeros.
 * (Any decimal of <= 15 significant digits survives decimal → double → shortest decimal, and
 * no shorter decimal maps to the same double, or both would survive.) Otherwise undefined.
 *
 * @example plainDecimalRepr('2.50') // '2.5'
 */
export function plainDecimalRepr(lexeme: string): string | undefined {
  const dot = lexeme.indexOf('.');
  const intStart = lexeme.charCodeAt(0) === 0x2d ? 1 : 0;
  let end = lexeme.length;
  while (end > dot + 2 && lexeme.charCodeAt(end - 1) === 0x30) end--;
  let significant: number;
  if (dot - intStart === 1 && lexeme.charCodeAt(intStart) === 0x30) {
    let firstNonZero = dot + 1;
    while (firstNonZero < end && lexeme.charCodeAt(firstNonZero) === 0x30) firstNonZero++;
    if (firstNonZero === end) return intStart === 1 ? '-0.0' : '0.0';
    if (firstNonZero - dot > 4) return undefined; // below 1e-4: exponent form
    significant = end - firstNonZero;
  } else {
    const wholeNumber = end === dot + 2 && lexeme.charCodeAt(dot + 1) === 0x30; // "X.0"
    significant = dot - intStart + (wholeNumber ? 0 : end - dot - 1);
  }
  return significant <= 15 ? lexeme.slice(0, end) : undefined;
}
