import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CORE_ERROR_CODES } from '../src/errors.js';

// docs/errors.md is the user-facing catalogue; this keeps it and the code in step, both ways.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

/** Rows of the catalogue table: `| \`PD_ERR_X\` | package | status | meaning |`. */
function documentedCodes(): { code: string; pkg: string }[] {
  const rows: { code: string; pkg: string }[] = [];
  for (const line of readFileSync(ERRORS_MD, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // cells[0] is the text before the first '|', so the code is cells[1] and the package cells[2].
    const code = /^`(PD_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code !== undefined) rows.push({ code, pkg: cells[2] ?? '' });
  }
  return rows;
}

describe('docs/errors.md and CORE_ERROR_CODES agree', () => {
  const rows = documentedCodes();

  it('finds the table', () => {
    expect(rows.length).toBeGreaterThan(0);
  });

  it('documents every core code, once, as a core row', () => {
    for (const code of CORE_ERROR_CODES) {
      expect(
        rows.filter((row) => row.code === code),
        code,
      ).toEqual([{ code, pkg: 'core' }]);
    }
  });

  it('has no core row whose code is gone from the source', () => {
    const documented = rows.filter((row) => row.pkg === 'core').map((row) => row.code);
    expect(documented.filter((code) => !(CORE_ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
  });

  it('defines each code once in the source', () => {
    expect(new Set(CORE_ERROR_CODES).size).toBe(CORE_ERROR_CODES.length);
  });
});
