import { PdError } from '@pd-router/core';

export type FixturesErrorCode = 'PD_ERR_MOCK_FIXTURES_INVALID';

/**
 * A golden fixtures directory that cannot be used: missing, empty, or holding a case whose files are
 * missing or unparsable. Thrown at construction (configuration misuse), never per request.
 * Match on `code`.
 *
 * @example
 * try { createConformanceChecker('nope'); }
 * catch (e) { if (e instanceof PdError && e.code === 'PD_ERR_MOCK_FIXTURES_INVALID') ... }
 */
export class FixturesError extends PdError<FixturesErrorCode> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('PD_ERR_MOCK_FIXTURES_INVALID', message, options);
    this.name = 'FixturesError';
  }
}
