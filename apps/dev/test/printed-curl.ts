import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseCurlCommand, performCurl } from './curl-interpreter.js';
import { findExecutable } from './executables.js';

const run = promisify(execFile);
let noted = false;

/** The banner's lines that start with `curl`, verbatim. */
export function curlLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.trimStart().startsWith('curl '));
}

/**
 * Runs one printed `curl ...` line and resolves with what it wrote to stdout; rejects if it fails.
 * With curl on PATH the line runs verbatim through `sh -c`, as a user pastes it. Without curl (a
 * machine with only Node, npm and corepack) the same line goes through the strict interpreter in
 * curl-interpreter.ts, which fails on anything it does not understand, and a note says so once.
 */
export async function runPrintedCurl(line: string, timeoutMs: number): Promise<string> {
  if (findExecutable('curl') !== undefined) {
    const { stdout } = await run('sh', ['-c', line], { timeout: timeoutMs });
    return stdout;
  }
  if (!noted) {
    noted = true;
    console.warn(
      "curl is not on PATH: the printed curl commands run through the tests' curl interpreter " +
        '(apps/dev/test/curl-interpreter.ts) instead of curl itself',
    );
  }
  const outcome = await performCurl(parseCurlCommand(line), { timeoutMs });
  if (outcome.code !== 0) throw new Error(`${line}\nexited ${outcome.code}: ${outcome.stderr}`);
  return outcome.stdout;
}
