import type { OptionSpec } from './options.js';
import { configSchema } from './schema.js';

/** The parts of a JSON Schema property that help and docs show. */
export interface PropertySchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly default?: unknown;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, PropertySchema>>;
}

/** The schema property behind a dotted config key (`cacheAware.cacheThreshold`), if there is one. */
export function schemaProperty(key: string): PropertySchema | undefined {
  let node: PropertySchema | undefined = configSchema as unknown as PropertySchema;
  for (const segment of key.split('.')) {
    node = node?.properties?.[segment];
  }
  return node;
}

/** What an option documents: the same text in `--help` and docs/configuration.md. */
export interface OptionDoc {
  readonly flag: string;
  readonly usage: string;
  readonly key: string | undefined;
  readonly type: string;
  readonly defaultText: string;
  readonly description: string;
}

const LARGE = 2 ** 31;

export function describeOption(option: OptionSpec): OptionDoc {
  const property = option.key === undefined ? undefined : schemaProperty(option.key);
  const names =
    option.kind === 'boolean'
      ? `${option.flag}, ${negatedFlag(option)}`
      : option.alias === undefined
        ? option.flag
        : `${option.flag}, ${option.alias}`;
  return {
    flag: option.flag,
    usage: option.valueName === undefined ? names : `${names} ${option.valueName}`,
    key: option.key,
    type: typeText(option, property),
    defaultText: option.defaultText ?? defaultOf(option, property),
    description: option.description ?? property?.description ?? '',
  };
}

/** `--no-x` for a boolean `--x`. */
export function negatedFlag(option: OptionSpec): string {
  return `--no-${option.flag.slice(2)}`;
}

function typeText(option: OptionSpec, property: PropertySchema | undefined): string {
  switch (option.kind) {
    case 'flag':
      return 'switch';
    case 'boolean':
      return 'boolean: FLAG, FLAG=true|false, --no-FLAG';
    case 'worker':
      return 'worker spec, repeatable';
    case 'list':
      return 'strings, repeatable or comma-separated';
    case 'enum':
      return (property?.enum ?? []).join(' | ');
    case 'integer':
    case 'number':
      return `${option.kind} ${range(property)}`.trimEnd();
    case 'string':
      return 'string';
  }
}

function range(property: PropertySchema | undefined): string {
  const min = property?.minimum;
  const max = property?.maximum;
  if (min !== undefined && max !== undefined && max < LARGE) return `${min}..${max}`;
  if (min !== undefined) return `>= ${min}`;
  return '';
}

function defaultOf(option: OptionSpec, property: PropertySchema | undefined): string {
  if (option.kind === 'flag') return 'off';
  if (option.kind === 'worker') return 'none; at least one required unless workers are discovered';
  const value = property?.default;
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
