import type { CoreError } from './errors.js';

/** Outcome of a function that meets expected bad input: a value, or a typed error. Never thrown. */
export type Result<T, E = CoreError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

/** @example ok(42) // { ok: true, value: 42 } */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** @example err(new CoreError('PD_ERR_JSON_SYNTAX', 'x')) */
export function err<E>(error: E): { readonly ok: false; readonly error: E } {
  return { ok: false, error };
}
