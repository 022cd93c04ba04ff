import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FixturesErrorCode } from '../src/conformance/index.js';
import { MOCK_ERROR_CODES } from '../src/errors.js';

// docs/errors.md is the user-facing catalogue; this keeps it and mock-vllm's codes in step, both ways.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);
const FIXTURES_CODE: FixturesErrorCode = 'PD_ERR_MOCK_FIXTURES_INVALID';
const SOURCE_CODES: readonly string[] = [...MOCK_ERROR_CODES, FIXTURES_CODE];

function documentedMockCodes(): string[] {
  const codes: string[] = [];
  for (const line of readFileSync(ERRORS_MD, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`(PD_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code !== undefined && cells[2] === 'mock-vllm') codes.push(code);
  }
  return codes;
}

describe('docs/errors.md and mock-vllm error codes agree', () => {
  it('documents every mock-vllm code exactly once', () => {
    const documented = documentedMockCodes();
    for (const code of SOURCE_CODES)
      expect(
        documented.filter((c) => c === code),
        code,
      ).toHaveLength(1);
  });

  it('has no mock-vllm row whose code is gone from the source', () => {
    expect(documentedMockCodes().filter((code) => !SOURCE_CODES.includes(code))).toEqual([]);
  });
});
