import { readFileSync } from 'node:fs';
import { parseWorkerUrl } from '@pd-router/core';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { type ReadFile, readConfigFile } from './config-file.js';
import { type ParsedArgv, parseArgv } from './parse-argv.js';
import type { ConfigValues } from './schema.js';
import type { Config, KvConnectorName, WorkerConfig } from './types.js';
import { type ConfigPath, type Locate, parseBindAddress, validateConfigObject } from './validate.js';

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

const failure = (message: string): LoadConfigResult => ({
  ok: false,
  error: new ConfigError([{ path: '', message }]),
  warnings: [],
});

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
  const file = parsed.configFile;
  const read = file === undefined ? undefined : readConfigFile(file, options.readFile ?? readUtf8);
  if (read?.ok === false) issues.push(...read.issues);
  // Command-line values over file values; sections merge key by key, lists are replaced.
  const merged: Record<string, unknown> = structuredClone(read?.ok ? read.value : {});
  for (const [key, value] of Object.entries(structuredClone(parsed.values))) {
    const base = merged[key];
    merged[key] = isObject(value) && isObject(base) ? { ...base, ...value } : value;
  }
  // An unreadable file may well have held the workers: don't also call them missing.
  const skipKeys =
    read?.ok === false ? new Set([...parsed.failedKeys, 'prefill', 'decode']) : parsed.failedKeys;
  const locate: Locate = (path) => locateIn(path, parsed.sources, file);
  return finish(merged, locate, issues, skipKeys, options.env ?? {});
}

/**
 * Validates a config object in the file's shape (what a `--config` file holds), for programs and
 * tests that build a router without a command line.
 *
 * @example
 * const result = resolveConfig({ prefill: ['http://127.0.0.1:20003'], decode: ['http://127.0.0.1:20005'] });
 */
export function resolveConfig(input: unknown): LoadConfigResult {
  if (!isObject(input)) return failure('the configuration must be an object');
  let copy: Record<string, unknown>;
  try {
    copy = structuredClone(input);
  } catch {
    return failure('the configuration must be plain data (no functions or class instances)');
  }
  return finish(copy, (path) => locateIn(path, new Map(), undefined), [], new Set(), {});
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates the merged layers, checks what spans several keys, and resolves the runtime Config. */
function finish(
  merged: Record<string, unknown>,
  locate: Locate,
  issues: ConfigIssue[],
  skipKeys: ReadonlySet<string>,
  env: Env,
): LoadConfigResult {
  const warnings: string[] = [];
  const schema = validateConfigObject(merged, locate, skipKeys);
  issues.push(...schema.issues);
  const shapeOk = (key: string) => !schema.invalidKeys.has(key) && !skipKeys.has(key);
  const values = merged as ConfigValues;
  // vllm-router's NIXL unless the worker specs (or ZMQ registration) say P2P NCCL.
  const specs = (['prefill', 'decode'] as const).flatMap((role) =>
    shapeOk(role) ? (values[role] ?? []) : [],
  );
  const zmq = specs.some((item) => (typeof item === 'string' ? item : item.url).includes(':zmq://'));
  const kvConnector =
    values.kvConnector ?? (zmq || values.discovery?.address !== undefined ? 'p2p-nccl' : 'nixl');
  const pools = { prefill: [] as WorkerConfig[], decode: [] as WorkerConfig[] };
  // Worker specs are only parsed once the lists themselves have the right shape.
  for (const role of ['prefill', 'decode'] as const) {
    if (shapeOk(role) && values[role] !== undefined)
      pools[role] = parseWorkers(role, values, kvConnector, locate, issues);
  }
  const { discovery, kubernetes } = values;
  if (shapeOk('discovery') && discovery.address === undefined && discovery.allow.length > 0) {
    warnings.push(`${locate(['discovery', 'allow'])}: has no effect without --vllm-discovery-address`);
  }
  if (shapeOk('kubernetes') && kubernetes.enabled) {
    if (kubernetes.prefillSelector.length === 0 && kubernetes.decodeSelector.length === 0) {
      issues.push({
        path: locate(['kubernetes', 'enabled']),
        message:
          'needs --prefill-selector and/or --decode-selector (KEY=VALUE labels telling prefill and decode pods apart)',
      });
    }
  } else if (shapeOk('kubernetes')) {
    for (const key of ['selector', 'prefillSelector', 'decodeSelector', 'namespace', 'kubeconfig'] as const) {
      const value = kubernetes[key];
      if (value !== undefined && value.length > 0) {
        warnings.push(`${locate(['kubernetes', key])}: has no effect without --service-discovery`);
      }
    }
  }
  if (issues.length > 0) return { ok: false, error: new ConfigError(issues), warnings };

  // As vllm-router: the validation URLs may come from the environment.
  const fromEnv = env['API_KEY_VALIDATION_URLS']
    ?.split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '');
  const { $schema, discovery: _, kubernetes: __, retry, admission, requestTimeoutSecs, ...rest } = values;
  const { disabled, maxRetries, ...backoff } = retry;
  const { queueTimeoutSecs, ...limits } = admission;
  // The schema checked the address's format, so it splits.
  const bind = discovery.address === undefined ? undefined : parseBindAddress(discovery.address);
  const { enabled, namespace, kubeconfig, ...selectors } = kubernetes;
  // vllm-router's flags (seconds) have defaults; pd-router's older ones (ms) are aliases that win.
  const { health: h, healthCheck: check, circuitBreaker: breaker } = values;
  const config: Config = {
    ...rest,
    upstreamApiKey: values.upstreamApiKey,
    adminApiKey: values.adminApiKey,
    kvConnector,
    keyValidation:
      values.keyValidation.urls.length === 0 && fromEnv !== undefined
        ? { ...values.keyValidation, urls: fromEnv }
        : values.keyValidation,
    health: {
      checkIntervalMs: h.checkIntervalMs ?? check.intervalSecs * 1_000,
      checkTimeoutMs: h.checkTimeoutMs ?? check.timeoutSecs * 1_000,
      checkPath: check.endpoint,
      failureThreshold: h.failureThreshold,
      successThreshold: h.successThreshold,
      circuitFailureThreshold:
        breaker.disabled || h.circuitFailureThreshold === 0
          ? 0
          : (h.circuitFailureThreshold ?? breaker.failureThreshold),
      circuitSuccessThreshold: breaker.successThreshold,
      circuitOpenMs: h.circuitOpenMs ?? breaker.timeoutDurationSecs * 1_000,
      circuitWindowMs: breaker.windowDurationSecs * 1_000,
    },
    discoveryMaxWorkers: discovery.maxWorkers,
    retry: { maxAttempts: disabled ? 1 : Math.max(1, maxRetries), ...backoff },
    requestTimeoutMs: requestTimeoutSecs * 1_000,
    admission: {
      ...limits,
      queueTimeoutMs: queueTimeoutSecs * 1_000,
      rateLimitTokensPerSecond: limits.rateLimitTokensPerSecond,
    },
    ...pools,
    prefillPolicy: values.prefillPolicy ?? values.policy,
    decodePolicy: values.decodePolicy ?? values.policy,
    ...(typeof bind === 'object'
      ? {
          discovery: {
            ...bind,
            ttlMs: discovery.ttlMs,
            allow: discovery.allow,
            ratePerSender: discovery.rateLimit,
          },
        }
      : {}),
    ...(enabled ? { kubernetes: { ...selectors, namespace, kubeconfig } } : {}),
  };
  return { ok: true, value: deepFreeze(config), warnings };
}

/**
 * Parses one pool's worker specs with core's parseWorkerUrl: one issue per bad spec (named by its
 * flag occurrence or file index), duplicates rejected (a worker listed twice would get twice the
 * traffic under round_robin and break the unique worker ids), and a warning for P2P NCCL workers
 * whose ZMQ address had to be guessed from their HTTP address (NIXL workers need none: with
 * `kvConnector: 'nixl'` a plain `http://[::1]:8000` is fine too).
 */
function parseWorkers(
  role: 'prefill' | 'decode',
  values: ConfigValues,
  kvConnector: KvConnectorName,
  locate: Locate,
  issues: ConfigIssue[],
): WorkerConfig[] {
  const workers: WorkerConfig[] = [];
  const firstIndex = new Map<string, number>();
  for (const [index, item] of (values[role] ?? []).entries()) {
    const spec = typeof item === 'string' ? item : item.url;
    const bootstrapPort = typeof item === 'string' ? undefined : (item.bootstrapPort ?? undefined);
    const where = locate([role, index]);
    // NIXL never uses the ZMQ address, so IPv6 workers need no `:zmq://` there.
    const parsed = parseWorkerUrl(spec, kvConnector !== 'p2p-nccl' ? { zmqUnused: true } : undefined);
    const previous = parsed.ok ? firstIndex.get(parsed.value.url) : undefined;
    if (!parsed.ok) issues.push({ path: where, message: parsed.error.message });
    else if (previous !== undefined) {
      issues.push({
        path: where,
        message: `${parsed.value.url} is already listed at ${locate([role, previous])}`,
      });
    } else {
      const address = parsed.value;
      firstIndex.set(address.url, index);
      if (address.zmqFromHttp && kvConnector === 'p2p-nccl') {
        issues.push({
          path: where,
          message: `${spec} has no :zmq://HOST:PORT, which P2P NCCL needs (its request ids carry each worker's ZMQ address): give URL:zmq://HOST:KV_PORT, or --kv-connector nixl for NIXL workers`,
        });
      }
      workers.push(bootstrapPort === undefined ? { spec, address } : { spec, address, bootstrapPort });
    }
  }
  return workers;
}

/** Names a config location as the user wrote it: `--prefill[1]` for a flag, `pd.yaml: cacheAware.x` for a file. */
function locateIn(path: ConfigPath, sources: ReadonlyMap<string, string>, file: string | undefined): string {
  const format = (segments: ConfigPath) =>
    segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
  const keys = path.findIndex((segment) => typeof segment === 'number');
  for (let length = keys === -1 ? path.length : keys; length > 0; length--) {
    const flag = sources.get(path.slice(0, length).join('.'));
    if (flag === undefined) continue;
    const rest = path.slice(length);
    const index = typeof rest[0] === 'number' ? `[${rest[0]}]` : '';
    const tail = format(typeof rest[0] === 'number' ? rest.slice(1) : rest);
    return tail === '' ? `${flag}${index}` : `${flag}${index} ${tail}`;
  }
  return file === undefined ? format(path) : `${file}: ${format(path)}`;
}

/** Freezes `value` and everything reachable from it, so a loaded config can never be changed. */
function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
