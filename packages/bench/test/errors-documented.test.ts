import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCH_ERROR_CODES } from '../src/errors.js';

// docs/errors.md is the user-facing catalogue; this keeps it and the bench's codes in step, both ways.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);
const SOURCE_CODES: readonly string[] = BENCH_ERROR_CODES;

function documentedBenchCodes(): string[] {
  const codes: string[] = [];
  for (const line of readFileSync(ERRORS_MD, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`(PD_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code !== undefined && cells[2] === 'bench') codes.push(code);
  }
  return codes;
}

describe('docs/errors.md and bench error codes agree', () => {
  it('documents every bench code exactly once', () => {
    const documented = documentedBenchCodes();
    for (const code of SOURCE_CODES)
      expect(
        documented.filter((c) => c === code),
        code,
      ).toHaveLength(1);
  });

  it('has no bench row whose code is gone from the source', () => {
    expect(documentedBenchCodes().filter((code) => !SOURCE_CODES.includes(code))).toEqual([]);
  });
});
