import { readFileSync } from 'node:fs';
import { findOption, OPTIONS, type OptionSpec, unsupportedFlag } from './flags.js';
import { OPTION_GROUPS } from './schema.js';

const INDENT = '      ';
const TYPES: Readonly<Record<string, string>> = {
  flag: 'switch',
  boolean: 'boolean: FLAG, FLAG=true|false, --no-FLAG',
  worker: 'worker spec, repeatable',
  list: 'strings, repeatable or comma-separated',
  string: 'string',
};

/** What an option documents: the same text in `--help` and docs/configuration.md. */
function describeOption(option: OptionSpec) {
  const alias = option.kind === 'boolean' ? `--no-${option.flag.slice(2)}` : option.alias;
  const names = [option.flag, ...(alias === undefined ? [] : [alias]), ...(option.aliases ?? [])].join(', ');
  const { minimum: min, maximum: max, enum: values } = option.schema as Record<string, number | undefined>;
  const range =
    min === undefined ? '' : max !== undefined && max < 2 ** 31 ? ` ${min}..${max}` : ` >= ${min}`;
  return {
    usage: option.valueName === undefined ? names : `${names} ${option.valueName}`,
    type:
      TYPES[option.kind] ??
      (values as unknown as string[] | undefined)?.join(' | ') ??
      `${option.kind}${range}`,
    defaultText: option.defaultText ?? defaultOf(option),
  };
}

function defaultOf(option: OptionSpec): string {
  if (option.kind === 'flag') return 'off';
  if (option.kind === 'worker') return 'none; at least one required unless workers are discovered';
  const value: unknown = option.schema['default'];
  if (value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  // Plain digits (what the flag accepts), with a human reading for big byte and time values.
  if (typeof value === 'number' && option.valueName === 'BYTES' && value % 1_048_576 === 0) {
    return `${value} (${value / 1_048_576} MiB)`;
  }
  if (typeof value === 'number' && option.valueName === 'MS' && value >= 1_000) {
    return `${value} (${value >= 60_000 && value % 60_000 === 0 ? `${value / 60_000} min` : `${value / 1_000} s`})`;
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A Markdown table row; a `|` inside a cell is escaped. */
const row = (cells: readonly string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;

/** The option reference, grouped: indented text for `--help`, or Markdown tables for the docs. */
function renderOptions(format: 'help' | 'markdown'): string[] {
  return OPTION_GROUPS.flatMap((group) => {
    const options = OPTIONS.filter((o) => o.group === group);
    if (format === 'markdown') {
      const head = ['Flag', 'Config key', 'Type', 'Default', 'Description'];
      return ['', `### ${group}`, '', row(head), row(head.map(() => '---')), ...options.map(markdownRow)];
    }
    return ['', `${group}:`, ...options.flatMap(helpEntry)];
  });
}

function markdownRow(option: OptionSpec): string {
  const doc = describeOption(option);
  const key = option.key === undefined ? '(flag only)' : `\`${option.key}\``;
  return row([`\`${doc.usage}\``, key, doc.type, doc.defaultText, option.description]);
}

function helpEntry(option: OptionSpec): string[] {
  const doc = describeOption(option);
  // A boolean's two spellings get a line each, so each reads (and greps) as a flag.
  const names =
    option.kind === 'boolean' ? [`${option.flag}[=true|false]`, `--no-${option.flag.slice(2)}`] : [doc.usage];
  return [
    ...names.map((name) => `  ${name}`),
    ...wrap(option.description, 80 - INDENT.length).map((line) => `${INDENT}${line}`),
    `${INDENT}[${doc.type}; default: ${doc.defaultText}]`,
  ];
}

/** Greedy word wrap (descriptions are plain sentences). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * The `--help` text, generated from the schema (so it lists every flag with its real type and default).
 *
 * @example process.stdout.write(helpText('0.1.0'));
 */
export function helpText(version: string): string {
  const lines = [
    `pd-router ${version}: a router for vLLM prefill/decode disaggregation, a drop-in for`,
    "vllm-router --vllm-pd-disaggregation with the reference proxy's exact wire format.",
    '',
    'Usage:',
    '  pd-router --prefill URL[:zmq://HOST:PORT] --decode URL[:zmq://HOST:PORT] [options]',
    '  pd-router --vllm-discovery-address HOST:PORT [options]   (workers register themselves)',
    '',
    'Example (1 prefill + 1 decode worker, P2P NCCL):',
    '  pd-router --prefill http://10.0.0.1:8100:zmq://10.0.0.1:14579 \\',
    '            --decode http://10.0.0.2:8200:zmq://10.0.0.2:14580 --port 10001',
    '',
    'Values: --flag VALUE or --flag=VALUE. Settings can also come from --config FILE (JSON or',
    'YAML, keys as in config.schema.json); flags on the command line override the file.',
    ...renderOptions('help'),
    '',
    'Exit status: 0 after a clean shutdown, 1 if the server cannot start, 2 for bad flags or config.',
  ];
  return `${lines.join('\n')}\n`;
}

/** The prose of a template beside this file with generated lines in place of its `<!-- MARKER -->` line. */
function fill(template: string, marker: string, lines: readonly string[]): string {
  const text = readFileSync(new URL(`./${template}`, import.meta.url), 'utf8');
  return text.replace(`<!-- ${marker} -->\n`, `${lines.join('\n')}\n`);
}

/**
 * docs/configuration.md: the prose of configuration.template.md with the option tables in place
 * of its `<!-- OPTIONS -->` line. `test/config-generated-files.test.ts` fails when the file
 * differs; `pnpm --filter @pd-router/server gen:docs` rewrites it.
 */
export function configurationMarkdown(): string {
  return fill('configuration.template.md', 'OPTIONS', renderOptions('markdown').slice(1));
}

/** One flag of vllm-router's command line, as fixtures/vllm-router/flags.json lists it. */
export interface VllmRouterFlag {
  readonly flag: `--${string}`;
  readonly takes: 'none' | 'value' | 'values' | 'prefill';
  readonly default: string | null;
  readonly values?: readonly string[];
  readonly source: 'rust' | 'python' | 'both';
}

/** What pd-router does with a vllm-router flag: takes it, or refuses it (with why). */
export type FlagStatus =
  | { readonly status: 'accepted'; readonly option: OptionSpec }
  | { readonly status: 'refused'; readonly reason: string };

export function vllmRouterFlagStatus(flag: string): FlagStatus {
  const option = findOption(flag)?.option;
  if (option !== undefined) return { status: 'accepted', option };
  return { status: 'refused', reason: unsupportedFlag(flag)?.reason ?? 'unknown to pd-router' };
}

/**
 * docs/migration-vllm-router.md: the prose of migration.template.md with, in place of its
 * `<!-- FLAGS -->` line, one row per flag of vllm-router (the fixture) saying what pd-router does
 * with it, from the schema: its pd-router name and default, or why it is refused.
 */
export function migrationMarkdown(flags: readonly VllmRouterFlag[]): string {
  const head = ['vllm-router flag', 'default there', 'pd-router', 'default here', 'notes'];
  const rows = flags.map(({ flag, default: theirs }) => {
    const found = vllmRouterFlagStatus(flag);
    if (found.status === 'refused')
      return row([`\`${flag}\``, theirs ?? 'none', 'refused', '', found.reason]);
    const { option } = found;
    const refused = Object.entries(option.refusedValues ?? {}).map(([value, why]) => `\`${value}\`: ${why}`);
    const notes = refused.length === 0 ? '' : `Refused values: ${refused.join('; ')}.`;
    const name = option.flag === flag ? 'same' : `\`${option.flag}\``;
    return row([`\`${flag}\``, theirs ?? 'none', name, describeOption(option).defaultText, notes]);
  });
  return fill('migration.template.md', 'FLAGS', [row(head), row(head.map(() => '---')), ...rows]);
}
