import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConformanceOptions } from './run-conformance.js';

export const USAGE = `usage: node apps/conformance/dist/main.js [options] [-- ROUTER_CMD [ARGS...]]

Runs every golden case end to end: mock-vllm prefill/decode instances in conformance mode, the
router in front of them, each captured client request replayed; prints a table of case x check.

options:
  --fixtures DIR        a fixture set to run (repeatable); default: fixtures/reference-proxy
  --router-cmd "CMD"    the router command, split on blanks (quotes group words);
                        default: node packages/server/dist/cli.js (also: everything after --)
  --allow-missing-nixl  report NIXL cases as skipped when the router refuses --kv-connector nixl
  --case TEXT           run only cases whose name contains TEXT (repeatable)
  --verbose             print progress and the router's output
  -h, --help            this text

The router gets: --vllm-pd-disaggregation --policy round_robin [--kv-connector nixl|mooncake]
  --prefill URL [BOOTSTRAP_PORT] ... --decode URL ... --host 127.0.0.1 --port N, with OPENAI_API_KEY
  as captured (Mooncake: one router per case, started once its prefills' engine ids are known).
Exit status: 0 when every case passes, 1 when any fails, 2 on a usage error.`;

export interface CliOptions extends ConformanceOptions {
  readonly verbose: boolean;
}

export type ParsedCli =
  | { readonly kind: 'run'; readonly options: CliOptions }
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string };

/** The monorepo root: this file is apps/conformance/{src,dist}/*. */
export function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** Splits a command line into words: blanks separate, '...' and "..." group, backslash escapes. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * Reads the command line. Paths given by the user are relative to the current directory; the
 * defaults are found from the repository root, so the app runs from anywhere.
 */
export function parseCli(argv: readonly string[], cwd = process.cwd()): ParsedCli {
  const root = repoRoot();
  const fixtureDirs: string[] = [];
  const caseFilters: string[] = [];
  let routerCommand: string[] | undefined;
  let allowMissingNixl = false;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string | undefined => argv[++i];
    if (arg === '--') {
      routerCommand = argv.slice(i + 1);
      break;
    }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '--allow-missing-nixl') allowMissingNixl = true;
    else if (arg === '--verbose') verbose = true;
    else if (arg === '--fixtures' || arg === '--case' || arg === '--router-cmd') {
      const v = value();
      if (v === undefined || v === '') return { kind: 'error', message: `${arg} needs a value` };
      if (arg === '--fixtures') fixtureDirs.push(path.resolve(cwd, v));
      else if (arg === '--case') caseFilters.push(v);
      else routerCommand = splitCommand(v);
    } else {
      return { kind: 'error', message: `unknown option ${arg}` };
    }
  }
  if (routerCommand !== undefined && routerCommand.length === 0) {
    return { kind: 'error', message: 'the router command is empty' };
  }
  return {
    kind: 'run',
    options: {
      fixtureDirs: fixtureDirs.length > 0 ? fixtureDirs : [path.join(root, 'fixtures', 'reference-proxy')],
      routerCommand: routerCommand ?? [
        process.execPath,
        path.join(root, 'packages', 'server', 'dist', 'cli.js'),
      ],
      routerCwd: routerCommand === undefined ? root : cwd,
      allowMissingNixl,
      caseFilters,
      verbose,
    },
  };
}
