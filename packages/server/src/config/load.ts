import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { type ReadFile, readConfigFile } from './config-file.js';
import { deepFreeze } from './deep-freeze.js';
import { resolveDynamicSettings } from './dynamic.js';
import { type ParsedArgv, parseArgv } from './parse-argv.js';
import type {
  CacheAwareConfig,
  Config,
  KvConnectorName,
  LogLevel,
  NixlOnMissingParams,
  PolicyName,
} from './types.js';
import { type ConfigPath, type Locate, validateConfigObject } from './validate.js';
import { parseWorkers, type RawWorker } from './workers.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** Command-line arguments, without the node binary and script (`process.argv.slice(2)`). */
  readonly argv: readonly string[];
  /** Environment; only read for warnings (OPENAI_API_KEY itself is read by the request flow). */
  readonly env?: Env;
  /** Reads `--config FILE` as UTF-8 text; defaults to fs.readFileSync. */
  readonly readFile?: ReadFile;
}

/** A Result (`ok`/`value`/`error`) plus the warnings to show either way. */
export type LoadConfigResult =
  | { readonly ok: true; readonly value: Readonly<Config>; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: ConfigError; readonly warnings: readonly string[] };

/**
 * Builds the router configuration from defaults < `--config FILE` < command-line flags, validates
 * it against the one schema and returns it deep-frozen, or every problem at once.
 *
 * @example
 * const result = loadConfig({ argv: ['--prefill', 'http://127.0.0.1:20003:zmq://127.0.0.1:21001',
 *   '--decode', 'http://127.0.0.1:20005:zmq://127.0.0.1:22001'], env: process.env });
 * if (result.ok) console.log(result.value.port); // 30000
 */
export function loadConfig(options: LoadConfigOptions): LoadConfigResult {
  return loadConfigFromArgs(parseArgv(options.argv), options);
}

/** Like loadConfig, for a command line already parsed (the CLI checks --help/--version first). */
export function loadConfigFromArgs(
  parsed: ParsedArgv,
  options: { readonly env?: Env; readonly readFile?: ReadFile } = {},
): LoadConfigResult {
  const issues: ConfigIssue[] = [...parsed.issues];
  let fileValues: Record<string, unknown> = {};
  const file = parsed.configFile;
  if (file !== undefined) {
    const read = readConfigFile(file, options.readFile ?? ((path) => readFileSync(path, 'utf8')));
    if (read.ok) fileValues = read.value;
    else issues.push(...read.issues);
  }
  // An unreadable file may well have held the workers: don't also call them missing.
  const fileFailed = issues.length > parsed.issues.length;
  const merged = mergeLayers(fileValues, parsed.values);
  const locate: Locate = (path) => locateIn(path, parsed.sources, file);
  const skipKeys = fileFailed ? new Set([...parsed.failedKeys, 'prefill', 'decode']) : parsed.failedKeys;
  return finish(merged, locate, issues, skipKeys, {
    env: options.env ?? {},
    apiKeyFromFlag: parsed.sources.has('apiKeys'),
  });
}

/**
 * Validates a config object in the file's shape (what a `--config` file holds), for programs and
 * tests that build a router without a command line.
 *
 * @example
 * const result = resolveConfig({ prefill: ['http://127.0.0.1:20003'], decode: ['http://127.0.0.1:20005'] });
 */
export function resolveConfig(input: unknown): LoadConfigResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return {
      ok: false,
      error: new ConfigError([{ path: '', message: 'the configuration must be an object' }]),
      warnings: [],
    };
  }
  let copy: Record<string, unknown>;
  try {
    copy = structuredClone(input) as Record<string, unknown>;
  } catch {
    const issue = {
      path: '',
      message: 'the configuration must be plain data (no functions or class instances)',
    };
    return { ok: false, error: new ConfigError([issue]), warnings: [] };
  }
  const locate: Locate = (path) => locateIn(path, new Map(), undefined);
  return finish(copy, locate, [], new Set(), {
    env: {},
    apiKeyFromFlag: false,
  });
}

function finish(
  merged: Record<string, unknown>,
  locate: Locate,
  issues: ConfigIssue[],
  skipKeys: ReadonlySet<string>,
  context: { readonly env: Env; readonly apiKeyFromFlag: boolean },
): LoadConfigResult {
  const warnings: string[] = [];
  const schema = validateConfigObject(merged, locate, skipKeys);
  issues.push(...schema.issues);
  // Worker specs are only parsed once the lists themselves have the right shape.
  const shapeOk = (key: string) => !schema.invalidKeys.has(key) && !skipKeys.has(key);
  const kvConnector = merged['kvConnector'] as KvConnectorName;
  const pools = { prefill: [] as Config['prefill'], decode: [] as Config['decode'] };
  for (const role of ['prefill', 'decode'] as const) {
    const raw = merged[role];
    if (!Array.isArray(raw) || !shapeOk(role)) continue;
    const result = parseWorkers(role, raw as RawWorker[], kvConnector, locate);
    pools[role] = result.workers;
    issues.push(...result.issues);
    warnings.push(...result.warnings);
  }
  const dynamic = resolveDynamicSettings(merged, locate, shapeOk);
  issues.push(...dynamic.issues);
  warnings.push(...dynamic.warnings);
  if (issues.length > 0) return { ok: false, error: new ConfigError(issues), warnings };

  const apiKeys = merged['apiKeys'] as readonly string[];
  const upstreamApiKey = merged['upstreamApiKey'] as string | undefined;
  if (context.apiKeyFromFlag && apiKeys.length > 0 && upstreamApiKey === undefined) {
    warnings.push(
      "--api-key: in pd-router this key guards inbound requests (clients must send it). vllm-router's --api-key was the key sent to workers: for that, use --upstream-api-key" +
        (context.env['OPENAI_API_KEY'] === undefined
          ? ' (workers now get "Authorization: Bearer None").'
          : '.'),
    );
  }
  const policy = merged['policy'] as PolicyName;
  const config: Config = {
    host: merged['host'] as string,
    port: merged['port'] as number,
    prefill: pools.prefill,
    decode: pools.decode,
    policy,
    prefillPolicy: (merged['prefillPolicy'] as PolicyName | undefined) ?? policy,
    decodePolicy: (merged['decodePolicy'] as PolicyName | undefined) ?? policy,
    cacheAware: merged['cacheAware'] as CacheAwareConfig,
    decodeFirstTokens: merged['decodeFirstTokens'] as number,
    kvConnector,
    nixl: {
      onMissingParams: merged['nixlOnMissingParams'] as NixlOnMissingParams,
      rewriteRemoteHost: merged['nixlRewriteRemoteHost'] as boolean,
    },
    keepVllmResponseId: merged['keepVllmResponseId'] as boolean,
    intraNodeDataParallelSize: merged['intraNodeDataParallelSize'] as number,
    retry: {
      maxAttempts: (merged['disableRetries'] as boolean)
        ? 1
        : Math.max(1, merged['retryMaxRetries'] as number),
      initialBackoffMs: merged['retryInitialBackoffMs'] as number,
      maxBackoffMs: merged['retryMaxBackoffMs'] as number,
      backoffMultiplier: merged['retryBackoffMultiplier'] as number,
      jitterFactor: merged['retryJitterFactor'] as number,
    },
    requestTimeoutMs: (merged['requestTimeoutSecs'] as number) * 1_000,
    admission: {
      maxConcurrentRequests: merged['maxConcurrentRequests'] as number,
      queueSize: merged['queueSize'] as number,
      queueTimeoutMs: (merged['queueTimeoutSecs'] as number) * 1_000,
      rateLimitTokensPerSecond: merged['rateLimitTokensPerSecond'] as number | undefined,
    },
    maxPayloadSize: merged['maxPayloadSize'] as number,
    prefillTimeoutMs: merged['prefillTimeoutMs'] as number,
    decodeTtftTimeoutMs: merged['decodeTtftTimeoutMs'] as number,
    streamIdleTimeoutMs: merged['streamIdleTimeoutMs'] as number,
    upstreamApiKey,
    apiKeys,
    adminApiKey: merged['adminApiKey'] as string | undefined,
    logLevel: merged['logLevel'] as LogLevel,
    prometheusPort: merged['prometheusPort'] as number,
    prometheusHost: merged['prometheusHost'] as string,
    upstreamConnections: merged['upstreamConnections'] as number,
    shutdownTimeoutMs: merged['shutdownTimeoutMs'] as number,
    intake: {
      maxConnections: merged['maxConnections'] as number,
      backlog: merged['backlog'] as number,
      keepAliveTimeoutMs: merged['keepAliveTimeoutMs'] as number,
      bodyTimeoutMs: merged['bodyTimeoutMs'] as number,
      bodyMinRate: merged['bodyMinRate'] as number,
      maxJsonElements: merged['maxJsonElements'] as number,
      parseBudgetBytes: merged['parseBudgetBytes'] as number,
    },
    ...(dynamic.discovery === undefined ? {} : { discovery: dynamic.discovery }),
    discoveryMaxWorkers: merged['discoveryMaxWorkers'] as number,
    ...(dynamic.kubernetes === undefined ? {} : { kubernetes: dynamic.kubernetes }),
    health: dynamic.health,
  };
  return { ok: true, value: deepFreeze(config), warnings };
}

/**
 * Command-line values over file values. Nested objects (cacheAware) merge key by key; lists are
 * replaced, not appended: `--prefill` on the command line means "these prefill workers".
 */
function mergeLayers(
  file: Record<string, unknown>,
  cli: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = structuredClone(file);
  for (const [key, value] of Object.entries(cli)) {
    const base = merged[key];
    if (isPlainObject(value) && isPlainObject(base)) merged[key] = { ...base, ...structuredClone(value) };
    else merged[key] = structuredClone(value);
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a config location as the user wrote it: `--prefill[1]` for a flag, `pd.yaml: cacheAware.x` for a file. */
function locateIn(path: ConfigPath, sources: ReadonlyMap<string, string>, file: string | undefined): string {
  for (let length = path.length; length > 0; length--) {
    const head = path.slice(0, length);
    if (head.some((segment) => typeof segment === 'number')) continue;
    const flag = sources.get(head.join('.'));
    if (flag === undefined) continue;
    const rest = path.slice(length);
    const index = typeof rest[0] === 'number' ? `[${rest[0]}]` : '';
    const tail = formatPath(typeof rest[0] === 'number' ? rest.slice(1) : rest);
    return tail === '' ? `${flag}${index}` : `${flag}${index} ${tail}`;
  }
  const dotted = formatPath(path);
  return file === undefined ? dotted : `${file}: ${dotted}`;
}

function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}
