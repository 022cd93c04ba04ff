import { parseDocument } from 'yaml';
import type { ConfigIssue } from './config-error.js';

export type ReadFile = (path: string) => string;

export type ConfigFileResult =
  | { readonly ok: true; readonly value: Record<string, unknown> }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Reads and parses a `--config` file: `.json` with JSON.parse, anything else as YAML 1.2 (which
 * also reads JSON). The top level must be a mapping. Syntax errors name the line and column.
 */
export function readConfigFile(path: string, readFile: ReadFile): ConfigFileResult {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    return fail('--config', `cannot read ${path}: ${describeReadError(error)}`);
  }
  let data: unknown;
  if (path.toLowerCase().endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      return fail(path, `invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else {
    // Duplicate keys are errors (yaml's default): a silently shadowed setting is a trap.
    const document = parseDocument(text);
    if (document.errors.length > 0) {
      const issues = new Map<string, ConfigIssue>();
      for (const e of document.errors) {
        const at = e.linePos?.[0];
        // yaml's message repeats the position and appends a code frame: keep the first clause.
        const message = `invalid YAML: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`;
        const where = at === undefined ? path : `${path}:${at.line}:${at.col}`;
        issues.set(`${where}\n${message}`, { path: where, message });
      }
      return { ok: false, issues: [...issues.values()] };
    }
    data = document.toJS();
  }
  if (data === null || data === undefined) return { ok: true, value: {} };
  if (typeof data !== 'object' || Array.isArray(data)) {
    return fail(path, 'the top level must be a mapping of settings (an object)');
  }
  return { ok: true, value: data as Record<string, unknown> };
}

function fail(path: string, message: string): ConfigFileResult {
  return { ok: false, issues: [{ path, message }] };
}

function describeReadError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}
