import type { ConfigIssue } from './config-error.js';
import { findNegatedOption, findOption, OPTIONS, type OptionSpec } from './options.js';
import { closestName } from './suggest.js';
import { UNSUPPORTED_VLLM_ROUTER_FLAGS } from './unsupported-flags.js';

/** What the command line asked for, in the shape of a config file (only the keys it set). */
export interface ParsedArgv {
  readonly help: boolean;
  readonly version: boolean;
  readonly configFile: string | undefined;
  /** Config-file-shaped values (`{ port: 1, cacheAware: { cacheThreshold: 0.5 } }`). */
  readonly values: Readonly<Record<string, unknown>>;
  /** Dotted config key → the flag that set it, to name the flag in validation messages. */
  readonly sources: ReadonlyMap<string, string>;
  /** Keys whose flag had a problem already reported here (so validation doesn't report them twice). */
  readonly failedKeys: ReadonlySet<string>;
  readonly issues: readonly ConfigIssue[];
  /** Tokens that belong to no flag (also in `issues`): even --help and --version refuse them. */
  readonly strays: readonly string[];
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const LOG_LEVEL_ALIASES: Readonly<Record<string, string>> = { warning: 'warn', critical: 'fatal' };
const ALL_NAMES = OPTIONS.flatMap((o) =>
  o.kind === 'boolean' ? [o.flag, `--no-${o.flag.slice(2)}`] : [o.flag],
);
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

/**
 * Reads pd-router's command line: `--flag value`, `--flag=value`, repeatable flags, and
 * vllm-router's two-token `--prefill URL [BOOTSTRAP_PORT|none]`. Never throws and never stops at
 * the first problem: everything wrong is in `issues`.
 *
 * @example
 * parseArgv(['--prefill', 'http://p:8000', '9000', '--port=8080']).values
 * // { prefill: [{ url: 'http://p:8000', bootstrapPort: 9000 }], port: 8080 }
 */
export function parseArgv(argv: readonly string[]): ParsedArgv {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const failedKeys = new Set<string>();
  const issues: ConfigIssue[] = [];
  const strays: string[] = [];
  const seen = new Set<string>();
  let help = false;
  let version = false;
  let configFile: string | undefined;
  // Index just past the last `--prefill URL`, to explain a stray token there.
  let afterPrefill = -1;

  const fail = (option: OptionSpec, path: string, message: string): void => {
    issues.push({ path, message });
    if (option.key !== undefined) failedKeys.add(option.key);
  };

  let i = 0;
  while (i < argv.length) {
    const token = argv[i] as string;
    i += 1;
    if (token === '--') {
      for (const rest of argv.slice(i)) {
        issues.push({ path: rest, message: 'unexpected argument' });
        strays.push(rest);
      }
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      issues.push({ path: token, message: unexpectedArgumentMessage(i - 1 === afterPrefill) });
      strays.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq === -1 ? token : token.slice(0, eq);
    const inline = eq === -1 ? undefined : token.slice(eq + 1);
    const negated = findNegatedOption(name);
    const option = negated ?? findOption(name);
    if (option === undefined) {
      issues.push({ path: name, message: unknownFlagMessage(name) });
      // Its value, if it has one, is part of the same mistake: don't report it again.
      const next = argv[i];
      if (inline === undefined && next !== undefined && !next.startsWith('-')) i += 1;
      continue;
    }
    if (!option.repeatable && option.kind !== 'flag' && seen.has(option.flag)) {
      fail(
        option,
        option.flag,
        'given more than once (give it once; the last-wins rule would hide mistakes)',
      );
    }
    seen.add(option.flag);

    if (option.kind === 'boolean') {
      // `--x`, `--x=true|false`, `--no-x`; never a separate value token (`--x false` would be ambiguous).
      const word = inline?.toLowerCase();
      let value: boolean | undefined;
      if (negated !== undefined) value = inline === undefined ? false : undefined;
      else if (word === undefined || TRUE_WORDS.has(word)) value = true;
      else if (FALSE_WORDS.has(word)) value = false;
      if (value === undefined) {
        fail(
          option,
          name,
          negated === undefined ? `expected true or false, got ${quote(inline ?? '')}` : 'takes no value',
        );
      } else if (option.key !== undefined) {
        sources.set(option.key, name);
        setAt(values, option.key, value);
      }
      continue;
    }

    if (option.kind === 'flag') {
      if (inline !== undefined) fail(option, option.flag, 'takes no value');
      else if (option.flag === '--help') help = true;
      else if (option.flag === '--version') version = true;
      else if (option.key !== undefined && !option.ignored) {
        sources.set(option.key, option.flag);
        setAt(values, option.key, true);
      }
      continue;
    }

    let value = inline;
    if (value === undefined) {
      const next = argv[i];
      if (next === undefined || next.startsWith('--')) {
        fail(option, option.flag, `requires a value (${option.valueName ?? 'VALUE'})`);
        continue;
      }
      value = next;
      i += 1;
    }

    if (option.flag === '--config') {
      configFile = value;
      continue;
    }
    if (option.ignored || option.key === undefined) {
      if (option.kind === 'integer' && !INTEGER.test(value)) {
        fail(option, option.flag, `expected an integer, got ${quote(value)}`);
      }
      continue;
    }
    const key = option.key;
    sources.set(key, option.flag);

    switch (option.kind) {
      case 'worker': {
        const list = listAt(values, key);
        const path = `${option.flag}[${list.length}]`;
        if (value === '' || value.startsWith('-')) {
          fail(option, path, `requires a worker URL, got ${quote(value)}`);
          continue;
        }
        // vllm-router: `--prefill URL 9000` or `--prefill URL none` (a bootstrap port it passes to
        // SGLang-style workers). P2P NCCL has no use for it, but scripts written for vllm-router
        // must keep working, so the token is consumed and kept only for messages.
        const next = option.flag === '--prefill' ? argv[i] : undefined;
        if (next !== undefined && next.toLowerCase() === 'none') {
          i += 1;
          list.push(value);
        } else if (next !== undefined && INTEGER.test(next) && !next.startsWith('-')) {
          i += 1;
          list.push({ url: value, bootstrapPort: Number(next) });
        } else {
          list.push(value);
        }
        if (option.flag === '--prefill') afterPrefill = i;
        break;
      }
      case 'list': {
        const list = listAt(values, key);
        const parts = value.split(',');
        // vllm-router's `--selector a=b c=d`: the following key=value tokens belong to the flag too.
        while (option.greedy === true && i < argv.length && isKeyValueToken(argv[i] as string)) {
          parts.push(...(argv[i] as string).split(','));
          i += 1;
        }
        for (const part of parts) {
          const item = part.trim();
          if (item === '') fail(option, option.flag, 'contains an empty item');
          else list.push(item);
        }
        break;
      }
      case 'integer':
        if (INTEGER.test(value)) setAt(values, key, Number(value));
        else
          fail(
            option,
            option.flag,
            `expected an integer, got ${option.secret ? 'a non-integer' : quote(value)}`,
          );
        break;
      case 'number':
        if (NUMBER.test(value)) setAt(values, key, Number(value));
        else fail(option, option.flag, `expected a number, got ${quote(value)}`);
        break;
      case 'enum': {
        const normalized = option.flag === '--log-level' ? normalizeLogLevel(value) : value;
        setAt(values, key, normalized);
        break;
      }
      case 'string':
        setAt(values, key, value);
        break;
    }
  }

  return { help, version, configFile, values, sources, failedKeys, issues, strays };
}

function isKeyValueToken(token: string): boolean {
  return !token.startsWith('-') && token.includes('=');
}

function normalizeLogLevel(value: string): string {
  const lower = value.toLowerCase();
  return LOG_LEVEL_ALIASES[lower] ?? lower;
}

function unknownFlagMessage(name: string): string {
  const reason = UNSUPPORTED_VLLM_ROUTER_FLAGS.get(name);
  if (reason !== undefined) return `a vllm-router flag that pd-router does not support: ${reason}`;
  const suggestion = closestName(name, ALL_NAMES);
  return suggestion === undefined ? 'unknown flag' : `unknown flag (did you mean ${suggestion}?)`;
}

function unexpectedArgumentMessage(afterPrefill: boolean): string {
  if (afterPrefill) {
    return 'unexpected argument (after --prefill URL only a bootstrap port 1-65535 or none may follow)';
  }
  return 'unexpected argument (every value belongs to a --flag)';
}

function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return `'${shown}'`;
}

/** The object holding `path`'s last segment, created on the way (`cacheAware.x` → values.cacheAware). */
function parentOf(values: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  const segments = path.split('.');
  let target = values;
  for (const segment of segments.slice(0, -1)) {
    const child = target[segment];
    if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
      target = child as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      target[segment] = created;
      target = created;
    }
  }
  return [target, segments[segments.length - 1] as string];
}

function setAt(values: Record<string, unknown>, path: string, value: unknown): void {
  const [parent, last] = parentOf(values, path);
  parent[last] = value;
}

function listAt(values: Record<string, unknown>, path: string): unknown[] {
  const [parent, last] = parentOf(values, path);
  const existing = parent[last];
  if (Array.isArray(existing)) return existing;
  const created: unknown[] = [];
  parent[last] = created;
  return created;
}
