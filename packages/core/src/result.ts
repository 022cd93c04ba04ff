import type { CoreError } from './errors.js';

/**
 * Outcome of a function that meets expected bad input: a value, or a typed error. Never thrown.
 * @example
 * const r: Result<number> = ok(1);
 * const n = r.ok ? r.value : 0;
 */
export type Result<T, E = CoreError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/**
 * Wraps a success value.
 * @example ok(42); // { ok: true, value: 42 }
 */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/**
 * Wraps an error value.
 * @example err(new CoreError('PD_ERR_JSON_SYNTAX', 'Expecting value')); // { ok: false, error: ... }
 */
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
