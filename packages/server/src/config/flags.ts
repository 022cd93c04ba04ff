import type { TSchema } from '@sinclair/typebox';
import { annotatedProperties, type CliAnnotation, FLAG_ONLY } from './schema.js';

/**
 * How a flag reads its value: `flag` (none), `boolean` (`--x`, `--x=true|false`, `--no-x`),
 * `string`, `integer`, `number`, `enum` (the schema's values), `worker` (a worker spec;
 * `--prefill` also takes vllm-router's bootstrap-port token), `list` (repeatable, comma-separated).
 */
export type OptionKind = 'flag' | 'boolean' | 'string' | 'integer' | 'number' | 'enum' | 'worker' | 'list';

/** One flag: read from its schema property's `x-cli`. */
export interface OptionSpec extends Omit<CliAnnotation, 'switch'> {
  readonly kind: OptionKind;
  /** Dotted path in the config file (`cacheAware.cacheThreshold`); absent: command line only. */
  readonly key?: string;
  /** The schema property behind the flag. */
  readonly schema: TSchema;
  readonly repeatable: boolean;
  readonly description: string;
}

/** Every flag of pd-router, in schema order, the flag-only ones placed by group in `--help`. */
export const OPTIONS: readonly OptionSpec[] = [
  ...annotatedProperties(),
  ...FLAG_ONLY.map((schema) => ({ key: undefined, schema, cli: schema['x-cli'] as CliAnnotation })),
].map(({ key, schema, cli: { switch: bare, ...cli } }): OptionSpec => {
  const type = schema['type'] as 'boolean' | 'string' | 'integer' | 'number' | 'array';
  const list = Array.isArray(schema['items']?.['type']) ? 'worker' : 'list';
  const kind = type === 'boolean' ? (bare ? 'flag' : 'boolean') : type === 'array' ? list : type;
  return {
    ...cli,
    ...(key === undefined ? {} : { key }),
    schema,
    kind: schema['enum'] === undefined ? kind : 'enum',
    repeatable: kind === 'list' || kind === 'worker',
    description: String(schema['description']),
  };
});

/**
 * vllm-router flags that have no meaning in pd-router, with why, by how many value tokens they
 * take (skipped, so they are not reported again): a drop-in user gets a reason, not "unknown flag".
 */
const UNSUPPORTED = {
  values: { '--worker-urls': 'pd-router routes prefill/decode pairs only: use --prefill and --decode' },
  value: { '--history-backend': 'meaningless in PD mode: pd-router keeps no conversation history' },
  none: {
    '--enable-igw': "meaningless in PD mode: the Inference Gateway's multi-model routing is not PD routing",
    '--profile': "meaningless in PD mode: vllm-router's profiling calls to workers are not part of pd-router",
    '--mini-lb':
      "meaningless in PD mode: the Python launcher's MiniLB is the load balancer pd-router replaces",
  },
};
type Takes = keyof typeof UNSUPPORTED;
export function unsupportedFlag(
  flag: string,
): { readonly takes: Takes; readonly reason: string } | undefined {
  for (const [takes, flags] of Object.entries(UNSUPPORTED) as [Takes, Record<string, string>][]) {
    if (Object.hasOwn(flags, flag)) return { takes, reason: flags[flag] as string };
  }
  return undefined;
}

const byName = new Map<string, OptionSpec>();
for (const option of OPTIONS) {
  for (const name of [option.flag, option.alias, ...(option.aliases ?? [])])
    if (name) byName.set(name, option);
}

/** The option named `name` (`--port`, `-h`, or `--no-x` for a boolean `--x`), and whether it was negated. */
export function findOption(name: string): { option: OptionSpec; negated: boolean } | undefined {
  const option = byName.get(name);
  if (option !== undefined) return { option, negated: false };
  const positive = name.startsWith('--no-') ? byName.get(`--${name.slice(5)}`) : undefined;
  return positive?.kind === 'boolean' ? { option: positive, negated: true } : undefined;
}

/** Every spelling a user may type, for "did you mean". */
export const ALL_FLAG_NAMES = OPTIONS.flatMap((o) => [
  o.flag,
  ...(o.aliases ?? []),
  ...(o.kind === 'boolean' ? [`--no-${o.flag.slice(2)}`] : []),
]);

/**
 * The config key of a flat key from before the schema was nested (`nixlOnMissingParams` →
 * `nixl.onMissingParams`): such keys were the camel case of their flag.
 */
export function movedKey(flatKey: string): string | undefined {
  return OPTIONS.find(
    (o) =>
      o.key?.includes('.') &&
      o.flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === flatKey,
  )?.key;
}

/** The option that sets a dotted config key. */
export const OPTION_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(
  OPTIONS.filter((o) => o.key !== undefined).map((o) => [o.key as string, o]),
);
