import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEV_ERROR_CODES } from '../src/errors.js';

// docs/errors.md is the user-facing catalogue; this keeps its "dev" rows and the code in step.
const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

function documentedCodes(): { code: string; pkg: string }[] {
  const rows: { code: string; pkg: string }[] = [];
  for (const line of readFileSync(ERRORS_MD, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`(PD_ERR_[A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code !== undefined) rows.push({ code, pkg: cells[2] ?? '' });
  }
  return rows;
}

describe('docs/errors.md and DEV_ERROR_CODES agree', () => {
  const rows = documentedCodes();

  it('documents every dev code, once, as a dev row', () => {
    for (const code of DEV_ERROR_CODES) {
      expect(
        rows.filter((row) => row.code === code),
        code,
      ).toEqual([{ code, pkg: 'dev' }]);
    }
  });

  it('has no dev row whose code is gone from the source', () => {
    const documented = rows.filter((row) => row.pkg === 'dev').map((row) => row.code);
    expect(documented.filter((code) => !(DEV_ERROR_CODES as readonly string[]).includes(code))).toEqual([]);
  });
});
