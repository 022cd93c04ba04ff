import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export function readDoc(relative: string): string {
  return readFileSync(join(REPO_ROOT, relative), 'utf8');
}

function cells(line: string): string[] {
  const trimmed = line.trim();
  return trimmed
    .slice(1, trimmed.endsWith('|') ? -1 : undefined)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

const SEPARATOR_ROW = /^\|[\s:|-]+\|$/;

/** Cells of every markdown table row (`| a | b |` → ['a', 'b']), header rows included. */
export function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.trim().startsWith('|') && !SEPARATOR_ROW.test(line.trim()))
    .map(cells);
}

export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly string[][];
}

/** Every markdown table, with its header row apart. */
export function tables(markdown: string): Table[] {
  const found: { header: string[]; rows: string[][] }[] = [];
  const lines = markdown.split('\n');
  let current: { header: string[]; rows: string[][] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line.startsWith('|')) {
      current = undefined;
      continue;
    }
    if (current === undefined) {
      if (SEPARATOR_ROW.test((lines[i + 1] ?? '').trim())) {
        current = { header: cells(line), rows: [] };
        found.push(current);
        i += 1;
      }
      continue;
    }
    current.rows.push(cells(line));
  }
  return found;
}

/** The content of a cell that is exactly one code span (`` `x` `` → x). */
export function codeCell(cell: string | undefined): string | undefined {
  return /^`([^`]+)`$/.exec(cell ?? '')?.[1];
}

/** Every inline code span in a markdown text, fenced blocks excluded. */
export function codeSpans(markdown: string): string[] {
  const withoutFences = markdown.replace(/^```[\s\S]*?^```/gm, '');
  return [...withoutFences.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? '');
}

/** Metric names and types from a Prometheus text exposition (`# TYPE name type`). */
export function exposedMetrics(text: string): Map<string, string> {
  const metrics = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) metrics.set(m[1] ?? '', m[2] ?? '');
  return metrics;
}

export interface CodeList {
  /** packages/<dir> or apps/<dir>. */
  readonly owner: string;
  readonly file: string;
  readonly codes: readonly string[];
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

/**
 * Every code list in the sources of packages/* and apps/*: `export const X_ERROR_CODES = [...]`
 * arrays (house style: one errors.ts per package), `export type XErrorCode = 'PD_ERR_...'`
 * literal unions (a code with a class of its own, such as mock-vllm's fixtures error), and tables
 * keyed by code (`const CODE_INFO = { PD_ERR_X: {...} }`).
 */
export function errorCodeLists(): CodeList[] {
  const lists: CodeList[] = [];
  for (const root of ['packages', 'apps']) {
    for (const dir of readdirSync(join(REPO_ROOT, root))) {
      let files: string[];
      try {
        files = sourceFiles(join(REPO_ROOT, root, dir, 'src'));
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        const declarations = [
          ...text.matchAll(/export const [A-Z_]*ERROR_CODES\b[^=]*=\s*\[([\s\S]*?)\]/g),
          ...text.matchAll(/export type \w*ErrorCode\s*=\s*([^;]*);/g),
        ];
        const owner = `${root}/${dir}`;
        for (const m of declarations) {
          const codes = [...(m[1] ?? '').matchAll(/'(PD_ERR_[A-Z0-9_]+)'/g)].map((c) => c[1] ?? '');
          if (codes.length > 0) lists.push({ owner, file: file.slice(REPO_ROOT.length), codes });
        }
        // A table keyed by code (`const CODE_INFO = { PD_ERR_X: {...}, ... }`, the server's).
        for (const m of text.matchAll(/const [A-Z_]+ = \{\n([\s\S]*?)\n\}/g)) {
          const codes = [...(m[1] ?? '').matchAll(/^ {2}(PD_ERR_[A-Z0-9_]+):/gm)].map((c) => c[1] ?? '');
          if (codes.length > 0) lists.push({ owner, file: file.slice(REPO_ROOT.length), codes });
        }
      }
    }
  }
  return lists;
}
