import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVER_ERROR_CODES } from '../src/errors.js';

// docs/errors.md is the user-facing catalogue; this keeps it and the server's codes in step, both ways.
// Configuration codes (PD_ERR_CONFIG_*) have their own catalogue and test (config-errors-documented).
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

function documentedServerCodes(): string[] {
  const codes: string[] = [];
  for (const line of readFileSync(ERRORS_MD, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`(PD_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code !== undefined && cells[2] === 'server' && !code.startsWith('PD_ERR_CONFIG_')) codes.push(code);
  }
  return codes;
}

describe('docs/errors.md and SERVER_ERROR_CODES agree', () => {
  const documented = documentedServerCodes();

  it('documents every server code exactly once', () => {
    for (const code of SERVER_ERROR_CODES)
      expect(
        documented.filter((c) => c === code),
        code,
      ).toEqual([code]);
  });

  it('has no server row whose code is gone from the source', () => {
    expect(documented.filter((code) => !(SERVER_ERROR_CODES as readonly string[]).includes(code))).toEqual(
      [],
    );
  });

  it('defines each code once in the source', () => {
    expect(new Set(SERVER_ERROR_CODES).size).toBe(SERVER_ERROR_CODES.length);
  });
});
