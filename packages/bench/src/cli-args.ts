import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { KV_CONNECTORS, type KvConnectorName } from './cluster/cluster-protocol.js';
import { distFile } from './dist-file.js';
import { BenchError } from './errors.js';
import { DEFAULT_SCENARIOS, SCENARIO_NAMES } from './scenarios.js';
import {
  type CommandTemplate,
  commandTemplate,
  PLACEHOLDERS,
  parseCompare,
} from './targets/command-template.js';
import type { BenchOptions } from './types.js';

const SPEC = {
  scenario: { type: 'string', multiple: true },
  'duration-s': { type: 'string' },
  'warmup-s': { type: 'string' },
  rounds: { type: 'string' },
  preset: { type: 'string' },
  'kv-connector': { type: 'string' },
  concurrency: { type: 'string', multiple: true },
  rate: { type: 'string', multiple: true },
  compare: { type: 'string', multiple: true },
  router: { type: 'string' },
  'no-router': { type: 'boolean' },
  'no-floor': { type: 'boolean' },
  bare: { type: 'boolean' },
  out: { type: 'string' },
  quick: { type: 'boolean' },
  'request-timeout-s': { type: 'string' },
  'drain-timeout-s': { type: 'string' },
  'max-requests': { type: 'string' },
  'cpu-prof': { type: 'boolean' },
  check: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Defaults of a full run and of `--quick` (a CI smoke: seconds, not minutes). */
export const DEFAULTS = {
  durationS: 5,
  warmupS: 1,
  rounds: 2,
  preset: 'instant',
  out: 'bench-results',
  requestTimeoutS: 30,
  drainTimeoutS: 30,
  maxRequests: 5_000_000,
} as const;
export const QUICK_DEFAULTS = { durationS: 0.5, warmupS: 0.2, rounds: 1, drainTimeoutS: 10 } as const;

/** Name of the built-in router target. */
export const ROUTER_NAME = 'pd-router';
/** Name of the `--bare` calibration target. */
export const BARE_NAME = 'bare-node';

export const HELP = `pd-bench: measure pd-router against the floor (direct P then D) and other proxies,
on a mock vLLM cluster. Writes results.json, results.md and throughput.svg.

Usage: pd-bench [options]
       pd-bench replay --trace FILE [options]   (replay a request trace per policy; replay --help)
       pd-bench policy-scale [options]          (time one routing decision at scale; policy-scale --help)

  --scenario LIST        scenarios, comma-separated or repeated; 'all' for every one
                         (default: ${DEFAULT_SCENARIOS.join(',')}; also: ${SCENARIO_NAMES.filter((n) => !(DEFAULT_SCENARIOS as readonly string[]).includes(n)).join(', ')})
  --duration-s N         measured seconds per load level (default ${DEFAULTS.durationS}; --quick ${QUICK_DEFAULTS.durationS})
  --warmup-s N           warm-up seconds before each measured run (default ${DEFAULTS.warmupS}; --quick ${QUICK_DEFAULTS.warmupS})
  --rounds N             rounds; targets alternate A B A B (default ${DEFAULTS.rounds}; --quick ${QUICK_DEFAULTS.rounds})
  --preset NAME          mock-vllm timing preset (default ${DEFAULTS.preset})
  --kv-connector NAME    p2p-nccl (default) or nixl: the mocks, the floor and the default router
                         all speak it (a --router or --compare command must be given it itself)
  --concurrency LIST     closed-loop concurrencies, replacing each scenario's own
  --rate LIST            open-loop request rates (req/s), replacing each scenario's load levels
  --compare NAME=CMD     another proxy to measure (repeatable); CMD may use ${Object.keys(PLACEHOLDERS)
    .map((k) => `{${k}}`)
    .join(' ')}
  --router CMD           command of the router under test (default: this repo's
                         node packages/server/dist/cli.js --vllm-pd-disaggregation --policy round_robin
                         --prefill {prefill} --decode {decode} --host {host} --port {port})
  --no-router            leave the router out
  --no-floor             leave the floor out
  --bare                 also measure bare-node, a minimal node:http + undici two-stage proxy:
                         the practical ceiling for a Node router (see docs/performance.md in
                         the pd-router repository); off by default
  --out DIR              output directory (default ${DEFAULTS.out})
  --quick                tiny durations and load levels, for a CI smoke test
  --request-timeout-s N  per-request headers/body timeout (default ${DEFAULTS.requestTimeoutS})
  --drain-timeout-s N    after a run, how long requests in flight may finish (default ${DEFAULTS.drainTimeoutS}; --quick ${QUICK_DEFAULTS.drainTimeoutS})
  --max-requests N       upper bound on requests per run (default ${DEFAULTS.maxRequests})
  --cpu-prof             run node targets with --cpu-prof (profiles in DIR/profiles)
  --check                exit with status 3 when a measured target of the issue is missed
  -h, --help             this text
`;

export interface CliCommand {
  readonly help: boolean;
  readonly check: boolean;
  readonly options: BenchOptions;
}

function usage(message: string): BenchError {
  return new BenchError('PD_ERR_BENCH_USAGE', message);
}

/** A flag's positive number (or `fallback` when absent); a usage error otherwise. */
export function positive(flag: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw usage(`${flag} expects a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  }
  return n;
}

function list(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function numbers(flag: string, values: readonly string[] | undefined): number[] | undefined {
  return list(values)?.map((v) => positive(flag, v, 0, flag === '--concurrency'));
}

/** Path of the server's built CLI, found through the workspace dependency. */
export function serverCliPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@pd-router/server/package.json')), 'dist', 'cli.js');
}

/**
 * The built-in router target: this repo's pd-router, 1P1D, round robin.
 * @example runBenchmark({ ...options, router: defaultRouterTemplate() });
 */
export function defaultRouterTemplate(kvConnector?: KvConnectorName): CommandTemplate {
  const cli = serverCliPath();
  if (!existsSync(cli)) {
    throw usage(`the router is not built (${cli} missing): run pnpm --filter @pd-router/server... build`);
  }
  return {
    name: ROUTER_NAME,
    env: {},
    argv: [
      process.execPath,
      cli,
      '--vllm-pd-disaggregation',
      '--policy',
      'round_robin',
      '--prefill',
      '{prefill}',
      '--decode',
      '{decode}',
      '--host',
      '{host}',
      '--port',
      '{port}',
      ...(kvConnector === undefined ? [] : ['--kv-connector', kvConnector]),
    ],
  };
}

function kvConnectorOf(value: string | undefined): KvConnectorName | undefined {
  if (value === undefined) return undefined;
  const known = KV_CONNECTORS.find((name) => name === value);
  if (known === undefined)
    throw usage(`--kv-connector expects ${KV_CONNECTORS.join(' or ')}, got "${value}"`);
  return known;
}

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: SPEC, allowPositionals: false, strict: true }).values;
  } catch (error) {
    throw usage((error as Error).message);
  }
}

/**
 * The `--bare` target: this package's bare-proxy.js, a calibration point, not a product.
 * @example runBenchmark({ ...options, compare: [bareTemplate()] });
 */
export function bareTemplate(): CommandTemplate {
  return {
    name: BARE_NAME,
    env: {},
    argv: [
      process.execPath,
      distFile('bare-proxy.js'),
      '--prefill',
      '{prefill}',
      '--decode',
      '{decode}',
      '--port',
      '{port}',
    ],
  };
}

/**
 * Parses argv (without node and the script) into options; throws a PD_ERR_BENCH_USAGE BenchError.
 *
 * @example parseBenchArgs(['--quick', '--scenario', 'chat-short']).options.rounds; // 1
 */
export function parseBenchArgs(argv: readonly string[]): CliCommand {
  const v = parseFlags(argv);
  const quick = v.quick === true;
  const base = quick ? { ...DEFAULTS, ...QUICK_DEFAULTS } : DEFAULTS;
  const concurrency = numbers('--concurrency', v.concurrency);
  const rates = numbers('--rate', v.rate);
  if (concurrency !== undefined && rates !== undefined) throw usage('use --concurrency or --rate, not both');
  const durationS = positive('--duration-s', v['duration-s'], base.durationS);
  const warmupS = v['warmup-s'] === '0' ? 0 : positive('--warmup-s', v['warmup-s'], base.warmupS);
  const help = v.help === true;
  const kvConnector = kvConnectorOf(v['kv-connector']);
  if (kvConnector === 'nixl' && v.bare === true) {
    throw usage('--bare speaks P2P NCCL only: leave it out with --kv-connector nixl');
  }
  const options: BenchOptions = {
    scenarios: list(v.scenario) ?? [...DEFAULT_SCENARIOS],
    durationMs: durationS * 1000,
    warmupMs: warmupS * 1000,
    rounds: positive('--rounds', v.rounds, base.rounds, true),
    preset: v.preset ?? base.preset,
    ...(kvConnector === undefined ? {} : { kvConnector }),
    quick,
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(rates === undefined ? {} : { rates }),
    ...(v['no-router'] === true || help
      ? {}
      : {
          router:
            v.router === undefined
              ? defaultRouterTemplate(kvConnector)
              : commandTemplate(ROUTER_NAME, v.router),
        }),
    floor: v['no-floor'] !== true,
    compare: [...(v.bare === true && !help ? [bareTemplate()] : []), ...(v.compare ?? []).map(parseCompare)],
    outDir: v.out ?? base.out,
    requestTimeoutMs: positive('--request-timeout-s', v['request-timeout-s'], base.requestTimeoutS) * 1000,
    drainTimeoutMs: positive('--drain-timeout-s', v['drain-timeout-s'], base.drainTimeoutS) * 1000,
    maxRequests: positive('--max-requests', v['max-requests'], base.maxRequests, true),
    cpuProf: v['cpu-prof'] === true,
  };
  return { help, check: v.check === true, options };
}
