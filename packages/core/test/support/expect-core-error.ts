import { expect } from 'vitest';
import { CoreError, type CoreErrorCode } from '../../src/errors.js';
import type { Result } from '../../src/result.js';

/** Checks that `r` failed with a CoreError of `code` whose message contains each of `parts`; returns it. */
export function expectCoreError(r: Result<unknown>, code: CoreErrorCode, ...parts: string[]): CoreError {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected an error');
  expect(r.error).toBeInstanceOf(CoreError);
  expect(r.error.code).toBe(code);
  for (const part of parts) expect(r.error.message).toContain(part);
  return r.error;
}
