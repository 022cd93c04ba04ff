import { DevError } from './errors.js';

/** The reference proxy's port, so scripts written for it keep working against `pnpm dev`. */
export const DEFAULT_ROUTER_PORT = 10_001;
/** First mock HTTP port; KV ports are the same numbers plus KV_PORT_OFFSET (20001 → 21001). */
export const DEFAULT_BASE_PORT = 20_001;
export const KV_PORT_OFFSET = 1_000;
export const DEFAULT_PREFILL_COUNT = 2;
export const DEFAULT_DECODE_COUNT = 2;
/** Keeps every HTTP port below its KV offset, so the two ranges never overlap. */
export const MAX_INSTANCES_PER_ROLE = 100;
export const DEFAULT_PRESET = 'realistic';
export const DEFAULT_POLICY = 'round_robin';

/** What `pnpm dev` was asked to start. Ports set to 0 are picked free at start. */
export interface DevOptions {
  readonly prefillCount: number;
  readonly decodeCount: number;
  readonly policy: string;
  readonly port: number;
  readonly basePort: number;
  readonly preset: string;
  /** Passed to the router as `--kv-connector` only when given. */
  readonly kvConnector: string | undefined;
  /** Passed to the router as `--log-level` only when given. */
  readonly logLevel: string | undefined;
}

export type DevCommand = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: DevOptions };

export const HELP_TEXT = `pnpm dev: a local pd-router in front of a mock vLLM prefill/decode cluster

Usage: pnpm dev [options]        (or: node apps/dev/dist/main.js [options])

  --prefill-count N   mock prefill instances, 1-${MAX_INSTANCES_PER_ROLE}                          (default: ${DEFAULT_PREFILL_COUNT})
  --decode-count N    mock decode instances, 1-${MAX_INSTANCES_PER_ROLE}                           (default: ${DEFAULT_DECODE_COUNT})
  --policy NAME       router policy: round_robin | random | consistent_hash |
                      power_of_two | cache_aware                         (default: ${DEFAULT_POLICY})
  --port N            router port on 127.0.0.1, 0 = a free one             (default: ${DEFAULT_ROUTER_PORT})
  --base-port N       first mock HTTP port; the mocks use N, N+1, ... and
                      their KV ports N+${KV_PORT_OFFSET}, N+${KV_PORT_OFFSET + 1}, ...; 0 = free ones       (default: ${DEFAULT_BASE_PORT})
  --preset NAME       mock timing preset: instant | realistic | bench-fast (default: ${DEFAULT_PRESET})
  --kv-connector NAME passed to the router (p2p-nccl | nixl | mooncake)   (default: router's)
  --log-level LEVEL   router log level (fatal ... trace, silent)          (default: router's)
  --help              print this help

Everything listens on 127.0.0.1. It prints the addresses, a curl command and an OpenAI SDK
snippet once the cluster is ready. Ctrl-C (or SIGTERM) stops every process it started.`;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function invalid(message: string): never {
  throw new DevError('PD_ERR_DEV_OPTION_INVALID', `${message} (see --help)`);
}

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) invalid(`${flag}: expected an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) invalid(`${flag}: must be ${min}-${max}, got ${n}`);
  return n;
}

function name(flag: string, raw: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(raw)) invalid(`${flag}: expected a name, got "${raw}"`);
  return raw;
}

/**
 * Reads `pnpm dev`'s arguments: `--flag value` or `--flag=value`. A leading `--` is skipped, since
 * `pnpm dev -- --port 8000` hands it on. Throws `PD_ERR_DEV_OPTION_INVALID` on the first problem.
 *
 * @example
 * parseDevArgs(['--prefill-count', '3', '--port=0']) // { kind: 'run', options: { prefillCount: 3, port: 0, ... } }
 */
export function parseDevArgs(argv: readonly string[]): DevCommand {
  const o: Mutable<DevOptions> = {
    prefillCount: DEFAULT_PREFILL_COUNT,
    decodeCount: DEFAULT_DECODE_COUNT,
    policy: DEFAULT_POLICY,
    port: DEFAULT_ROUTER_PORT,
    basePort: DEFAULT_BASE_PORT,
    preset: DEFAULT_PRESET,
    kvConnector: undefined,
    logLevel: undefined,
  };
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = (): string => {
      if (eq !== -1) return arg.slice(eq + 1);
      const next = args[i + 1];
      if (next === undefined || next.startsWith('--')) invalid(`${flag}: missing value`);
      i += 1;
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--prefill-count':
        o.prefillCount = integer(flag, value(), 1, MAX_INSTANCES_PER_ROLE);
        break;
      case '--decode-count':
        o.decodeCount = integer(flag, value(), 1, MAX_INSTANCES_PER_ROLE);
        break;
      case '--policy':
        o.policy = name(flag, value());
        break;
      case '--port':
        o.port = integer(flag, value(), 0, 65_535);
        break;
      case '--base-port':
        o.basePort = integer(flag, value(), 0, 65_535);
        break;
      case '--preset':
        o.preset = name(flag, value());
        break;
      case '--kv-connector':
        o.kvConnector = name(flag, value());
        break;
      case '--log-level':
        o.logLevel = name(flag, value());
        break;
      default:
        invalid(`unknown option "${arg}"`);
    }
  }
  const last = o.basePort + KV_PORT_OFFSET + o.prefillCount + o.decodeCount - 1;
  if (o.basePort !== 0 && last > 65_535) {
    invalid(`--base-port: ${o.basePort} leaves no room for the KV ports (the last would be ${last})`);
  }
  return { kind: 'run', options: o };
}
