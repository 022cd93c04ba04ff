import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { COLUMNS, type Column } from '../src/case-result.js';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(APP_DIR, '..', '..');
export const APP_MAIN = path.join(APP_DIR, 'dist', 'main.js');
export const ROUTER_CLI = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'cli.js');
export const REFERENCE_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'reference-proxy');
export const NIXL_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'nixl-toy-proxy');
export const MOONCAKE_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'mooncake-proxy');

/** The built app and router are what CI runs (turbo builds them before `test`): say so when missing. */
export function requireBuilt(): void {
  for (const file of [APP_MAIN, ROUTER_CLI]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`pnpm build\` first`);
  }
}

export interface AppRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built conformance app to its end (killed after `timeoutMs`, so a hang fails the test). */
export function runApp(args: readonly string[], timeoutMs: number): Promise<AppRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP_MAIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    // SIGINT lets the app's exit hook take its router down with it.
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One row's marks (✓, ✗ or -), by column. */
export type Marks = Readonly<Record<Column, string>>;

/** Every column passed. */
export const ALL_PASS: Marks = Object.fromEntries(COLUMNS.map((c) => [c, '✓'])) as Record<Column, string>;

/** The table's header line, as the app prints it (the case column padded to the longest name). */
export const HEADER_LINE = new RegExp(`^case +${COLUMNS.join('  ')}$`, 'm');

/** The table rows: case name -> its marks, by column. */
export function tableRows(stdout: string): Map<string, Marks> {
  const rows = new Map<string, Marks>();
  for (const line of stdout.split('\n')) {
    const [name, ...cells] = line.trim().split(/\s+/);
    const marks = cells.slice(0, COLUMNS.length);
    if (name !== undefined && marks.length === COLUMNS.length && marks.every((m) => /^[✓✗-]$/.test(m))) {
      rows.set(name, Object.fromEntries(COLUMNS.map((c, i) => [c, marks[i]])) as Record<Column, string>);
    }
  }
  return rows;
}

export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}

/** The case directories of a fixture set; at least `min`, so an emptied set cannot pass. */
export function caseDirs(fixtures: string, min: number): string[] {
  const names = readdirSync(fixtures, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  expect(names.length).toBeGreaterThanOrEqual(min);
  return names;
}

/** Runs the app over a golden set: exit 0, exactly the `targets` rows, every column of each passed. */
export async function expectAllPass(args: readonly string[], runMs: number, targets: readonly string[]) {
  const run = await runApp(args, runMs);
  const rows = tableRows(run.stdout);

  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  expect([...rows.keys()].sort()).toEqual([...targets].sort());
  expect(run.stdout).toMatch(HEADER_LINE);
  for (const marks of rows.values()) expect(marks).toEqual(ALL_PASS);
  expect(lastLine(run.stdout)).toBe(`${targets.length} passed, 0 failed`);
}
