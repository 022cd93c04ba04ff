/**
 * A JSON number as Python's `json.loads` + `json.dumps` print it. JavaScript numbers cannot carry
 * this (integers beyond 2^53, `1.0` vs `1`, `1e-05`), so the canonical text is kept instead.
 *
 * `text` is trusted: `serializePyJson` writes it verbatim, so only build one from canonical text
 * (an integer without leading zeros, a Python float `repr`, `NaN`, `Infinity` or `-Infinity`).
 *
 * @example new PyNumber('1e-05').text // '1e-05'
 */
export class PyNumber {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/** A value as Python's `json.loads` returns it (dict → `PyObject`, int/float → `PyNumber`). */
export type PyValue = null | boolean | string | PyNumber | PyValue[] | PyObject;

/** A JSON object; Map insertion order is Python's dict order (first occurrence of each key). */
export type PyObject = Map<string, PyValue>;

/** Options of `parsePyJson`, `canonicalize`, `prefillBody` and `canonicalRequest`. */
export interface ParseOptions {
  /**
   * Deepest nesting of arrays/objects accepted (each `[` or `{` is one level, empty ones included);
   * deeper input is rejected with `PD_ERR_JSON_TOO_DEEP`. Default 512 (`DEFAULT_MAX_DEPTH`), below
   * Python's own recursion limit (~1,000), so anything accepted here is also accepted by Python.
   */
  readonly maxDepth?: number;
  /**
   * Most JSON values accepted in one document (every scalar and container, the root included);
   * more is `PD_ERR_JSON_TOO_MANY_ELEMENTS`. Default: no limit. The cost of a parse is bounded by
   * the body's size anyway; this bounds the work of whoever walks the values afterwards.
   */
  readonly maxElements?: number;
  /**
   * How bytes become text.
   * - `'utf8-replace'` (default): `bytes.decode('utf-8', errors='replace')` then `json.loads(str)`,
   *   as vLLM's P2P NCCL proxy does: invalid UTF-8 becomes U+FFFD, a leading BOM is an error.
   * - `'python-bytes'`: `json.loads(bytes)`: BOM / NUL-pattern detection of UTF-8, UTF-8-sig,
   *   UTF-16 and UTF-32, strict decoding with `surrogatepass` (undecodable bytes are
   *   `PD_ERR_JSON_ENCODING`, even outside strings, as Python decodes before parsing). One
   *   difference remains: raw surrogate halves (CESU-style UTF-8, unpaired UTF-16 units) are two
   *   code points to Python but a pair to JavaScript, so two keys differing only in that way are
   *   duplicates here and not in Python. The output bytes are the same either way.
   */
  readonly encoding?: 'utf8-replace' | 'python-bytes';
}

/** Default of `ParseOptions.maxDepth`: nesting levels accepted before `PD_ERR_JSON_TOO_DEEP`. */
export const DEFAULT_MAX_DEPTH = 512;

/**
 * Python (3.11+) refuses to convert integers with more digits than this (`sys.int_info.
 * default_max_str_digits`), so `json.loads` raises ValueError on them; the sign is not counted.
 */
export const PY_INT_MAX_STR_DIGITS = 4300;
