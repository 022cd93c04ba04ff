import { PyNumber, type PyValue, parsePyJson } from '@pd-router/core';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Parses a request body. JSON.parse first (fast); when it fails, core's Python-compatible parser,
 * because a router forwards what Python's json.loads accepts, including NaN/Infinity tokens.
 * Returns `undefined` for bytes neither accepts (the caller answers vLLM's 400).
 *
 * @example
 * parseRequestBody(Buffer.from('{"temperature": NaN}')) // { temperature: NaN }
 */
export function parseRequestBody(body: Uint8Array): JsonValue | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    const result = parsePyJson(body);
    return result.ok ? fromPy(result.value) : undefined;
  }
}

function fromPy(value: PyValue): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof PyNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(fromPy);
  const out: { [key: string]: JsonValue } = {};
  // defineProperty: a "__proto__" key must stay a plain key, as JSON.parse keeps it.
  for (const [k, v] of value)
    Object.defineProperty(out, k, { value: fromPy(v), enumerable: true, writable: true, configurable: true });
  return out;
}
