import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(APP_DIR, '..', '..');
export const APP_MAIN = path.join(APP_DIR, 'dist', 'main.js');
export const ROUTER_CLI = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'cli.js');
export const REFERENCE_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'reference-proxy');
export const NIXL_FIXTURES = path.join(REPO_ROOT, 'fixtures', 'nixl-toy-proxy');

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

/** The table rows: case name -> the six marks, in column order. */
export function tableRows(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s+/);
    const [name, ...marks] = cells;
    if (name !== undefined && marks.length >= 6 && marks.slice(0, 6).every((m) => /^[✓✗-]$/.test(m))) {
      rows.set(name, marks.slice(0, 6));
    }
  }
  return rows;
}

export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}
