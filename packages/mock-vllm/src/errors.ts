import { PdError } from '@pd-router/core';

/**
 * Every error code mock-vllm can throw. They are programmer or operator mistakes (bad options, a
 * bad fault spec, a port in use): HTTP clients of the mock get vLLM's own error bodies instead.
 * Each code is listed in docs/errors.md (test-enforced).
 */
export const MOCK_ERROR_CODES = [
  'PD_ERR_MOCK_OPTION_INVALID',
  'PD_ERR_MOCK_FAULT_INVALID',
  'PD_ERR_MOCK_LISTEN_FAILED',
] as const;

export type MockErrorCode = (typeof MOCK_ERROR_CODES)[number];

/**
 * Thrown by mock-vllm's factories, `setFaults()` and the CLI parser. Match on `code`.
 *
 * @example
 * try { await createMockVllm({ role: 'decode', kvWaitTimeoutMs: -1 }); }
 * catch (e) { if (e instanceof MockVllmError && e.code === 'PD_ERR_MOCK_OPTION_INVALID') ... }
 */
export class MockVllmError extends PdError<MockErrorCode> {
  constructor(code: MockErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'MockVllmError';
  }
}
