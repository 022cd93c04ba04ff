import { type CaseResult, COLUMNS } from './case-result.js';

const PASS = '✓';
const FAIL = '✗';
const NOT_CHECKED = '-';

function mark(value: boolean | undefined): string {
  if (value === undefined) return NOT_CHECKED;
  return value ? PASS : FAIL;
}

/**
 * The result table: one row per case, one column per check, ✓ / ✗ (and - for skipped cases, with
 * the reason at the end of the row). Plain text, aligned with spaces.
 *
 * @example
 * console.log(renderTable(results));
 */
export function renderTable(results: readonly CaseResult[]): string {
  const nameWidth = Math.max('case'.length, ...results.map((r) => r.name.length));
  const pad = (s: string, n: number): string => s + ' '.repeat(Math.max(0, n - [...s].length));
  const header = [pad('case', nameWidth), ...COLUMNS].join('  ');
  const lines = [header, '-'.repeat([...header].length)];
  for (const r of results) {
    const cells = COLUMNS.map((c) => pad(mark(r.columns[c]), c.length));
    const row = [pad(r.name, nameWidth), ...cells].join('  ').trimEnd();
    lines.push(r.note === undefined ? row : `${row}  ${r.note}`);
  }
  return lines.join('\n');
}

/** The readable account of every failed case, below the table; empty when none failed. */
export function renderProblems(results: readonly CaseResult[]): string {
  const blocks: string[] = [];
  for (const r of results) {
    if (r.status !== 'failed') continue;
    blocks.push([`${FAIL} ${r.name}`, ...r.problems.map((p) => indentBlock(p))].join('\n'));
  }
  return blocks.join('\n\n');
}

function indentBlock(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export interface Tally {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export function tally(results: readonly CaseResult[]): Tally {
  const count = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

/** The closing line CI and people read: `N passed, N failed`. */
export function summaryLine(t: Tally): string {
  return `${t.passed} passed, ${t.failed} failed`;
}
