import { parseArgs } from 'node:util';
import type { ConfigIssue } from './config-error.js';
import { ALL_FLAG_NAMES, findOption, OPTIONS, type OptionSpec, unsupportedFlag } from './flags.js';
import { closestName } from './suggest.js';

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
const LOG_LEVELS: Readonly<Record<string, string>> = { warning: 'warn', critical: 'fatal' };
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);
const takesValue = (o: OptionSpec) => o.kind !== 'flag' && o.kind !== 'boolean';
/** parseArgs' option table: every value is split off by the pre-pass, so only the short aliases matter. */
const PARSE_OPTIONS = Object.fromEntries(
  OPTIONS.map((o) => [
    o.flag.slice(2),
    { type: takesValue(o) ? 'string' : 'boolean', ...(o.alias ? { short: o.alias.slice(1) } : {}) } as const,
  ]),
);

type Issue = ConfigIssue & { readonly at: number };

/**
 * vllm-router's command-line quirks, before `node:util` parseArgs sees the line: `--prefill URL
 * [BOOTSTRAP_PORT|none]` (a second value token), `--selector a=b c=d` (space-separated items), and
 * a value-taking flag followed by another flag (a missing value that parseArgs would swallow).
 * Returns the line with every value joined to its flag (`--port=1`), and the argv index of each.
 */
function prePass(argv: readonly string[], issues: Issue[], strays: string[], failed: Set<string>) {
  const args: string[] = [];
  const origin: number[] = [];
  const bootstrap = new Map<number, number | null>();
  let afterPrefill = -1;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      for (const [k, rest] of argv.slice(i + 1).entries()) {
        issues.push({ at: i + 1 + k, path: rest, message: 'unexpected argument' });
        strays.push(rest);
      }
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      const message =
        i === afterPrefill
          ? 'unexpected argument (after --prefill URL only a bootstrap port 1-65535 or none may follow)'
          : 'unexpected argument (every value belongs to a --flag)';
      issues.push({ at: i, path: token, message });
      strays.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq === -1 ? token : token.slice(0, eq);
    const found = findOption(name);
    if (found === undefined) {
      const refused = unsupportedFlag(name);
      issues.push({ at: i, path: name, message: unknownFlagMessage(name) });
      // Its values, if it has any, are part of the same mistake: don't report them again.
      const values = eq !== -1 || refused?.takes === 'none' ? 0 : refused?.takes === 'values' ? Infinity : 1;
      for (let k = 0; k < values && i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-'); k++)
        i += 1;
      continue;
    }
    const { option } = found;
    const at = i;
    let value = eq === -1 ? undefined : token.slice(eq + 1);
    if (takesValue(option) && value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        issues.push({ at, path: name, message: `requires a value (${option.valueName ?? 'VALUE'})` });
        if (option.key !== undefined) failed.add(option.key);
        continue;
      }
      value = next;
      i += 1;
    }
    if (option.flag === '--prefill' && value !== undefined) {
      // vllm-router: `--prefill URL 9000` or `--prefill URL none` (a bootstrap port it passes to
      // SGLang-style workers), kept so scripts written for vllm-router keep working.
      const next = argv[i + 1];
      if (next?.toLowerCase() === 'none') bootstrap.set(args.length, null);
      else if (next !== undefined && INTEGER.test(next) && !next.startsWith('-')) {
        bootstrap.set(args.length, Number(next));
      }
      if (bootstrap.has(args.length)) i += 1;
      afterPrefill = i + 1;
    }
    while (
      option.greedy &&
      value !== undefined &&
      i + 1 < argv.length &&
      takes(option, argv[i + 1] as string)
    ) {
      value = `${value},${argv[i + 1]}`;
      i += 1;
    }
    args.push(value === undefined ? name : `${name}=${value}`);
    origin.push(at);
  }
  return { args, origin, bootstrap };
}

/**
 * Reads pd-router's command line: `--flag value`, `--flag=value`, repeatable flags, and
 * vllm-router's quirks (see prePass). Never throws and never stops at the first problem:
 * everything wrong is in `issues`, in command-line order.
 *
 * @example
 * parseArgv(['--prefill', 'http://p:8000', '9000', '--port=8080']).values
 * // { prefill: [{ url: 'http://p:8000', bootstrapPort: 9000 }], port: 8080 }
 */
export function parseArgv(argv: readonly string[]): ParsedArgv {
  const failedKeys = new Set<string>();
  const issues: Issue[] = [];
  const strays: string[] = [];
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const seen = new Set<string>();
  let help = false;
  let version = false;
  let configFile: string | undefined;
  const { args, origin, bootstrap } = prePass(argv, issues, strays, failedKeys);
  const { tokens } = parseArgs({
    args,
    options: PARSE_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const at = origin[token.index] as number;
    // The pre-pass let through only names findOption knows.
    const { option, negated } = findOption(token.rawName) as NonNullable<ReturnType<typeof findOption>>;
    const fail = (path: string, message: string): void => {
      issues.push({ at, path, message });
      if (option.key !== undefined) failedKeys.add(option.key);
    };
    const set = (value: unknown): void => {
      if (option.key === undefined) return;
      sources.set(option.key, token.rawName);
      const [parent, last] = slot(values, option.key);
      parent[last] = value;
    };
    const list = (): unknown[] => {
      const [parent, last] = slot(values, option.key as string);
      parent[last] ??= [];
      return parent[last] as unknown[];
    };
    if (!option.repeatable && option.kind !== 'flag' && seen.has(option.flag)) {
      fail(option.flag, 'given more than once (give it once; the last-wins rule would hide mistakes)');
    }
    seen.add(option.flag);
    const value = token.value;

    if (option.kind === 'boolean') {
      // `--x`, `--x=true|false`, `--no-x`; never a separate value token (`--x false` would be ambiguous).
      const word = value?.toLowerCase();
      if (negated) {
        if (value === undefined) set(false);
        else fail(token.rawName, 'takes no value');
      } else if (word === undefined || TRUE_WORDS.has(word)) set(true);
      else if (FALSE_WORDS.has(word)) set(false);
      else fail(token.rawName, `expected true or false, got ${quote(value ?? '')}`);
      continue;
    }
    if (option.kind === 'flag') {
      if (value !== undefined) fail(option.flag, 'takes no value');
      else if (option.flag === '--help') help = true;
      else if (option.flag === '--version') version = true;
      else if (!option.ignored) set(true);
      continue;
    }
    const text = value ?? '';
    if (option.flag === '--config') {
      configFile = text;
      continue;
    }
    if (option.key === undefined) {
      if (option.kind === 'integer' && !INTEGER.test(text))
        fail(option.flag, `expected an integer, got ${quote(text)}`);
      continue;
    }
    sources.set(option.key, token.rawName);
    switch (option.kind) {
      case 'worker': {
        const port = bootstrap.get(token.index);
        if (text === '' || text.startsWith('-')) {
          fail(`${option.flag}[${list().length}]`, `requires a worker URL, got ${quote(text)}`);
        } else list().push(typeof port === 'number' ? { url: text, bootstrapPort: port } : text);
        break;
      }
      case 'list':
        for (const item of text.split(',').map((part) => part.trim())) {
          if (item === '') fail(option.flag, 'contains an empty item');
          else list().push(item);
        }
        break;
      case 'integer':
        if (INTEGER.test(text)) set(Number(text));
        else fail(option.flag, `expected an integer, got ${option.secret ? 'a non-integer' : quote(text)}`);
        break;
      case 'number':
        if (NUMBER.test(text)) set(Number(text));
        else fail(option.flag, `expected a number, got ${quote(text)}`);
        break;
      case 'enum':
        set(option.flag === '--log-level' ? (LOG_LEVELS[text.toLowerCase()] ?? text.toLowerCase()) : text);
        break;
      default:
        set(text);
    }
  }
  const sorted = issues.sort((a, b) => a.at - b.at).map(({ path, message }) => ({ path, message }));
  return { help, version, configFile, values, sources, failedKeys, issues: sorted, strays };
}

/** Whether a greedy list takes `token` too: a `key=value` for label lists, anything but a flag otherwise. */
function takes(option: OptionSpec, token: string): boolean {
  return !token.startsWith('-') && (option.greedy === 'all' || token.includes('='));
}

function unknownFlagMessage(name: string): string {
  const refused = unsupportedFlag(name);
  if (refused !== undefined) return `a vllm-router flag that pd-router does not support: ${refused.reason}`;
  const suggestion = closestName(name, ALL_FLAG_NAMES);
  return suggestion === undefined ? 'unknown flag' : `unknown flag (did you mean ${suggestion}?)`;
}

function quote(value: string): string {
  return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
}

/** The object holding `path`'s last segment, created on the way (`cacheAware.x` → values.cacheAware). */
function slot(values: Record<string, unknown>, path: string): [Record<string, unknown>, string] {
  const segments = path.split('.');
  const last = segments.pop() as string;
  let target = values;
  for (const segment of segments) {
    target[segment] ??= {};
    target = target[segment] as Record<string, unknown>;
  }
  return [target, last];
}
