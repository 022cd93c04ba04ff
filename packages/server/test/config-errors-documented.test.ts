import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { CONFIG_ERROR_CODES } from '../src/config/config-error.js';

const ERRORS_MD = new URL('../../../docs/errors.md', import.meta.url);

it('docs/errors.md documents every configuration error code once, as a server row', () => {
  const rows = readFileSync(ERRORS_MD, 'utf8')
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => /^`PD_ERR_CONFIG_[A-Z_]+`$/.test(cells[1] ?? ''))
    .map((cells) => ({ code: (cells[1] ?? '').slice(1, -1), pkg: cells[2] }));
  expect(rows).toEqual(CONFIG_ERROR_CODES.map((code) => ({ code, pkg: 'server' })));
});
