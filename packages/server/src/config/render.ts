import { readFileSync } from 'node:fs';
import { findOption, OPTIONS, type OptionSpec, UNSUPPORTED_VLLM_ROUTER_FLAGS } from './flags.js';
import { OPTION_GROUPS } from './schema.js';

const WIDTH = 80;
const INDENT = '      ';
const LARGE = 2 ** 31;

const TYPES: Readonly<Record<string, string>> = {
  flag: 'switch',
  boolean: 'boolean: FLAG, FLAG=true|false, --no-FLAG',
  worker: 'worker spec, repeatable',
  list: 'strings, repeatable or comma-separated',
  string: 'string',
};

/** What an option documents: the same text in `--help` and docs/configuration.md. */
function describeOption(option: OptionSpec) {
  const alias = option.kind === 'boolean' ? negatedFlag(option) : option.alias;
  const names = [option.flag, ...(alias === undefined ? [] : [alias]), ...(option.aliases ?? [])].join(', ');
  const {
    enum: values,
    minimum: min,
    maximum: max,
  } = (option.schema ?? {}) as Record<string, number | undefined>;
  const range = min === undefined ? '' : max !== undefined && max < LARGE ? ` ${min}..${max}` : ` >= ${min}`;
  return {
    usage: option.valueName === undefined ? names : `${names} ${option.valueName}`,
    type:
      TYPES[option.kind] ??
      (values === undefined ? `${option.kind}${range}` : (values as unknown as string[]).join(' | ')),
    defaultText: option.defaultText ?? defaultOf(option),
  };
}

function negatedFlag(option: OptionSpec): string {
  return `--no-${option.flag.slice(2)}`;
}

function defaultOf(option: OptionSpec): string {
  if (option.kind === 'flag') return 'off';
  if (option.kind === 'worker') return 'none; at least one required unless workers are discovered';
  const value: unknown = option.schema?.['default'];
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

/** The option reference, grouped: indented text for `--help`, or Markdown tables for the docs. */
function renderOptions(format: 'help' | 'markdown'): string[] {
  const lines: string[] = [];
  for (const group of OPTION_GROUPS) {
    if (format === 'help') lines.push('', `${group}:`);
    else
      lines.push(
        '',
        `### ${group}`,
        '',
        '| Flag | Config key | Type | Default | Description |',
        '| --- | --- | --- | --- | --- |',
      );
    for (const option of OPTIONS.filter((o) => o.group === group)) {
      const doc = describeOption(option);
      if (format === 'markdown') {
        const key = option.key === undefined ? '(flag only)' : `\`${option.key}\``;
        const cells = [`\`${doc.usage}\``, key, doc.type, doc.defaultText, option.description];
        lines.push(`| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`);
        continue;
      }
      // A boolean's two spellings get a line each, so each reads (and greps) as a flag.
      if (option.kind === 'boolean') lines.push(`  ${option.flag}[=true|false]`, `  ${negatedFlag(option)}`);
      else lines.push(`  ${doc.usage}`);
      for (const line of wrap(option.description, WIDTH - INDENT.length)) lines.push(`${INDENT}${line}`);
      lines.push(`${INDENT}[${doc.type}; default: ${doc.defaultText}]`);
    }
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

/**
 * docs/configuration.md: the prose of configuration.template.md with the option tables in place
 * of its `<!-- OPTIONS -->` line. `test/config-generated-files.test.ts` fails when the file
 * differs; `pnpm --filter @pd-router/server gen:docs` rewrites it.
 */
export function configurationMarkdown(): string {
  const template = readFileSync(new URL('./configuration.template.md', import.meta.url), 'utf8');
  return template.replace('<!-- OPTIONS -->\n', `${renderOptions('markdown').slice(1).join('\n')}\n`);
}

/** Greedy word wrap (descriptions are plain sentences). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** One flag of vllm-router's command line, as fixtures/vllm-router/flags.json lists it. */
export interface VllmRouterFlag {
  readonly flag: `--${string}`;
  readonly takes: 'none' | 'value' | 'values' | 'prefill';
  readonly default: string | null;
  readonly values?: readonly string[];
  readonly source: 'rust' | 'python' | 'both';
}

/** What pd-router does with a vllm-router flag: takes it, refuses it until its behaviour lands, or refuses it for good. */
export type FlagStatus =
  | { readonly status: 'accepted'; readonly option: OptionSpec }
  | { readonly status: 'pending' | 'refused'; readonly reason: string; readonly option?: OptionSpec };

export function vllmRouterFlagStatus(flag: string): FlagStatus {
  const option = findOption(flag)?.option;
  if (option?.pending !== undefined) return { status: 'pending', reason: option.pending, option };
  if (option !== undefined) return { status: 'accepted', option };
  const refused = UNSUPPORTED_VLLM_ROUTER_FLAGS.get(flag);
  return { status: 'refused', reason: refused?.reason ?? 'unknown to pd-router' };
}

/**
 * docs/migration-vllm-router.md: the prose of migration.template.md with, in place of its
 * `<!-- FLAGS -->` line, one row per flag of vllm-router (the fixture) saying what pd-router does
 * with it, from the schema: its pd-router name and default, or why it is refused.
 */
export function migrationMarkdown(flags: readonly VllmRouterFlag[]): string {
  const rows = [
    '| vllm-router flag | default there | pd-router | default here | notes |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const entry of flags) {
    const found = vllmRouterFlagStatus(entry.flag);
    const theirs = entry.default ?? 'none';
    const refusedValues = Object.entries(found.option?.refusedValues ?? {})
      .map(([value, why]) => `\`${value}\`: ${why}`)
      .join('; ');
    let cells: string[];
    if (found.status === 'accepted') {
      const doc = describeOption(found.option);
      const same = found.option.flag === entry.flag ? 'same' : `\`${found.option.flag}\``;
      cells = [same, doc.defaultText, refusedValues === '' ? '' : `Refused values: ${refusedValues}.`];
    } else if (found.status === 'pending') {
      cells = ['refused: not yet supported', '', found.reason];
    } else cells = ['refused', '', found.reason];
    const row = [`\`${entry.flag}\``, theirs, ...cells].map((c) => c.replaceAll('|', '\\|'));
    rows.push(`| ${row.join(' | ')} |`);
  }
  const template = readFileSync(new URL('./migration.template.md', import.meta.url), 'utf8');
  return template.replace('<!-- FLAGS -->\n', `${rows.join('\n')}\n`);
}
