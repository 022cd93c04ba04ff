import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from './config-error.js';
import { loadConfig, resolveConfig } from './load.js';

const P = 'http://127.0.0.1:20003:zmq://127.0.0.1:21001';
const D = 'http://127.0.0.1:20005:zmq://127.0.0.1:22001';
const WORKERS = ['--prefill', P, '--decode', D];

function files(map: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

function issues(result: ReturnType<typeof loadConfig>): string[] {
  if (result.ok) throw new Error('expected a failure');
  expect(result.error).toBeInstanceOf(ConfigError);
  expect(result.error.code).toBe('PD_ERR_CONFIG_INVALID');
  return result.error.issues.map(formatConfigIssue);
}

describe('loadConfig', () => {
  it('fills every default', () => {
    const result = loadConfig({ argv: WORKERS, env: {} });
    if (!result.ok) throw result.error;
    expect(result.warnings).toEqual([]);
    expect(result.value).toEqual({
      host: '127.0.0.1',
      port: 30_000,
      prefill: [
        {
          spec: P,
          address: {
            url: 'http://127.0.0.1:20003',
            hostHeader: '127.0.0.1:20003',
            zmq: { host: '127.0.0.1', port: 21_001, text: '127.0.0.1:21001' },
            zmqFromHttp: false,
          },
        },
      ],
      decode: [expect.objectContaining({ spec: D })],
      policy: 'round_robin',
      prefillPolicy: 'round_robin',
      decodePolicy: 'round_robin',
      cacheAware: {
        cacheThreshold: 0.3,
        balanceAbsThreshold: 64,
        balanceRelThreshold: 1.5,
        maxTreeSize: 16_777_216,
      },
      decodeFirstTokens: 512,
      kvConnector: 'p2p-nccl',
      nixl: { onMissingParams: 'recompute', rewriteRemoteHost: true },
      keepVllmResponseId: false,
      intraNodeDataParallelSize: 1,
      retry: {
        maxAttempts: 5,
        initialBackoffMs: 50,
        maxBackoffMs: 30_000,
        backoffMultiplier: 1.5,
        jitterFactor: 0.2,
      },
      requestTimeoutMs: 1_800_000,
      admission: {
        maxConcurrentRequests: 32_768,
        queueSize: 100,
        queueTimeoutMs: 60_000,
        rateLimitTokensPerSecond: undefined,
      },
      maxPayloadSize: 33_554_432,
      prefillTimeoutMs: 120_000,
      decodeTtftTimeoutMs: 300_000,
      streamIdleTimeoutMs: 60_000,
      apiKeys: [],
      logLevel: 'info',
      prometheusPort: 0,
      prometheusHost: '127.0.0.1',
      upstreamConnections: 1024,
      shutdownTimeoutMs: 25_000,
      discoveryMaxWorkers: 256,
      intake: {
        maxConnections: 0,
        backlog: 511,
        keepAliveTimeoutMs: 72_000,
        bodyTimeoutMs: 120_000,
        bodyMinRate: 1_024,
        maxJsonElements: 4_194_304,
        parseBudgetBytes: 67_108_864,
      },
      health: {
        checkIntervalMs: 10_000,
        checkTimeoutMs: 5_000,
        checkPath: '/health',
        failureThreshold: 3,
        successThreshold: 2,
        circuitFailureThreshold: 10,
        circuitSuccessThreshold: 3,
        circuitOpenMs: 60_000,
        circuitWindowMs: 120_000,
      },
      // vllm-router's flags and defaults (some refused until their behaviour lands).
      backend: 'vllm',
      logFormat: 'json',
      requestIdHeaders: [],
      corsAllowedOrigins: [],
      keyValidation: { urls: [], cacheTtlMs: 60_000, timeoutMs: 5_000 },
      startup: { timeoutSecs: 600, checkIntervalSecs: 30 },
      healthCheck: { intervalSecs: 10, timeoutSecs: 5, endpoint: '/health' },
      circuitBreaker: {
        failureThreshold: 10,
        successThreshold: 3,
        timeoutDurationSecs: 60,
        windowDurationSecs: 120,
        disabled: false,
      },
      tracing: { enabled: false, samplingRatio: 1, excludedPaths: [] },
    });
    expect(result.value.upstreamApiKey).toBeUndefined();
    expect(result.value.adminApiKey).toBeUndefined();
  });

  it('returns a deep-frozen config', () => {
    const result = loadConfig({ argv: WORKERS, env: {} });
    if (!result.ok) throw result.error;
    const config = result.value;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cacheAware)).toBe(true);
    expect(Object.isFrozen(config.prefill)).toBe(true);
    expect(Object.isFrozen(config.prefill[0]?.address.zmq)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('inherits the pool policies from --policy unless they are given', () => {
    const result = loadConfig({
      argv: [...WORKERS, '--policy', 'cache_aware', '--decode-policy', 'power_of_two'],
    });
    if (!result.ok) throw result.error;
    expect([result.value.policy, result.value.prefillPolicy, result.value.decodePolicy]).toEqual([
      'cache_aware',
      'cache_aware',
      'power_of_two',
    ]);
  });

  it('merges defaults < file < flags (lists replaced, nested objects merged)', () => {
    const readFile = files({
      'pd.yaml': [
        'prefill: [http://127.0.0.1:1:zmq://127.0.0.1:2, {url: "http://127.0.0.1:3:zmq://127.0.0.1:4", bootstrapPort: 9000}]',
        'decode: [http://127.0.0.1:5:zmq://127.0.0.1:6]',
        'port: 9999',
        'logLevel: debug',
        'cacheAware: {cacheThreshold: 0.9, maxTreeSize: 1000}',
      ].join('\n'),
    });
    const result = loadConfig({
      argv: ['--config', 'pd.yaml', '--port', '1234', '--cache-threshold', '0.1', '--decode', D],
      readFile,
    });
    if (!result.ok) throw result.error;
    const config = result.value;
    expect(config.port).toBe(1234);
    expect(config.logLevel).toBe('debug');
    expect(config.cacheAware).toEqual({
      cacheThreshold: 0.1,
      maxTreeSize: 1000,
      balanceAbsThreshold: 64,
      balanceRelThreshold: 1.5,
    });
    expect(config.prefill.map((w) => [w.address.url, w.bootstrapPort])).toEqual([
      ['http://127.0.0.1:1', undefined],
      ['http://127.0.0.1:3', 9000],
    ]);
    expect(config.decode.map((w) => w.spec)).toEqual([D]);
  });

  it('reads JSON files with JSON.parse', () => {
    const readFile = files({ 'pd.json': JSON.stringify({ prefill: [P], decode: [D], policy: 'random' }) });
    const result = loadConfig({ argv: ['--config', 'pd.json'], readFile });
    expect(result.ok && result.value.policy).toBe('random');
  });

  it('reports every problem at once, each with the flag or file path', () => {
    const readFile = files({
      'pd.yaml': [
        'prefill: [7, {url: "http://127.0.0.1:3"}, {url: "http://127.0.0.1:4", extra: 1}, "ftp://x:1"]',
        'port: "80"',
        'logLevle: info',
        'cacheAware: {cacheThreshold: 1.5}',
        'apiKeys: [""]',
      ].join('\n'),
    });
    const result = loadConfig({
      argv: [
        '--config',
        'pd.yaml',
        '--decode',
        'http://127.0.0.1:1',
        '--decode',
        'nonsense',
        '--decode',
        'http://127.0.0.1:1/',
        '--policy',
        'least_loaded',
        '--prefill-timeout-ms',
        '0',
        '--shutdown-timeout-ms',
        '9999999999',
      ],
      readFile,
    });
    expect(issues(result)).toEqual([
      "pd.yaml: logLevle: unknown key (did you mean 'logLevel'?)",
      'pd.yaml: port: must be integer (got "80")',
      'pd.yaml: prefill[0]: must be a worker URL string or an object {url, bootstrapPort} (got 7)',
      'pd.yaml: prefill[2].extra: unknown key',
      '--policy: must be one of: round_robin, random, consistent_hash, power_of_two, cache_aware, sticky_least_loaded, rendezvous_hash, pd_aware (got "least_loaded")',
      'pd.yaml: cacheAware.cacheThreshold: must be <= 1 (got 1.5)',
      '--prefill-timeout-ms: must be >= 1 (got 0)',
      'pd.yaml: apiKeys[0]: must not be empty',
      '--shutdown-timeout-ms: must be <= 2147483647 (got 9999999999)',
      expect.stringMatching(/^--decode\[1\]: invalid worker URL "nonsense"/),
      '--decode[2]: http://127.0.0.1:1 is already listed at --decode[0]',
    ]);
  });

  it('names the flag occurrence of a bad worker spec', () => {
    const result = loadConfig({
      argv: ['--prefill', P, '--prefill', 'http://[::1]:80', '--decode', 'localhost'],
    });
    expect(issues(result)).toEqual([
      expect.stringMatching(/^--prefill\[1\]: invalid worker URL/),
      expect.stringMatching(/^--decode\[0\]: invalid worker URL "localhost"/),
    ]);
  });

  it('requires both pools, without repeating flags that were already reported', () => {
    expect(issues(loadConfig({ argv: [] }))).toEqual([
      '--prefill: required: give at least one prefill worker (--prefill URL[:zmq://HOST:PORT], or "prefill" in --config), or discover workers (--vllm-discovery-address, --service-discovery)',
      '--decode: required: give at least one decode worker (--decode URL[:zmq://HOST:PORT], or "decode" in --config), or discover workers (--vllm-discovery-address, --service-discovery)',
    ]);
    expect(issues(loadConfig({ argv: ['--decode', D, '--prefill'] }))).toEqual([
      '--prefill: requires a value (URL[:zmq://HOST:PORT] [BOOTSTRAP_PORT|none])',
    ]);
  });

  it('reports unreadable and malformed files with their location, and nothing else about the workers', () => {
    expect(issues(loadConfig({ argv: ['--config', 'missing.yaml'], readFile: files({}) }))).toEqual([
      '--config: cannot read missing.yaml: no such file',
    ]);
    expect(
      issues(loadConfig({ argv: ['--config', 'bad.yaml'], readFile: files({ 'bad.yaml': 'port: [1,\n' }) })),
    ).toEqual([expect.stringMatching(/^bad\.yaml:\d+:\d+: invalid YAML: /)]);
    expect(
      issues(
        loadConfig({ argv: ['--config', 'dup.yaml'], readFile: files({ 'dup.yaml': 'port: 1\nport: 2\n' }) }),
      ),
    ).toEqual(['dup.yaml:2:1: invalid YAML: Map keys must be unique']);
    expect(
      issues(loadConfig({ argv: ['--config', 'bad.json'], readFile: files({ 'bad.json': '{"port": }' }) })),
    ).toEqual([expect.stringMatching(/^bad\.json: invalid JSON: /)]);
    expect(
      issues(loadConfig({ argv: ['--config', 'list.yaml'], readFile: files({ 'list.yaml': '- 1\n' }) })),
    ).toEqual(['list.yaml: the top level must be a mapping of settings (an object)']);
  });

  it('refuses P2P NCCL workers without a ZMQ address, naming both fixes, but not with NIXL', () => {
    const bare = ['--prefill', 'http://127.0.0.1:20003', '--decode', D];
    expect(issues(loadConfig({ argv: bare }))).toEqual([
      expect.stringMatching(
        /^--prefill\[0\]: http:\/\/127\.0\.0\.1:20003 has no :zmq:\/\/HOST:PORT.*give URL:zmq:\/\/HOST:KV_PORT, or --kv-connector nixl/,
      ),
    ]);
    const nixl = loadConfig({ argv: [...bare, '--kv-connector', 'nixl'] });
    expect(nixl.ok && nixl.warnings).toEqual([]);
  });

  it('picks the connector from the worker specs: P2P NCCL with :zmq:// or ZMQ registration, else NIXL', () => {
    const connector = (argv: string[]) => {
      const result = loadConfig({ argv });
      if (!result.ok) throw result.error;
      return result.value.kvConnector;
    };
    expect(connector(WORKERS)).toBe('p2p-nccl');
    expect(connector(['--prefill', 'http://127.0.0.1:1', '--decode', 'http://127.0.0.1:2'])).toBe('nixl');
    expect(connector(['--vllm-discovery-address', '127.0.0.1:0'])).toBe('p2p-nccl');
    expect(connector([...WORKERS, '--kv-connector', 'nixl'])).toBe('nixl');
  });

  it("sends --api-key to the workers (vllm-router's meaning); clients use --client-api-key; secrets never echoed", () => {
    const result = loadConfig({
      argv: [...WORKERS, '--api-key', 'sekrit', '--client-api-key', 'c1,c2'],
      env: {},
    });
    if (!result.ok) throw result.error;
    expect([result.value.upstreamApiKey, result.value.apiKeys]).toEqual(['sekrit', ['c1', 'c2']]);
    expect(result.warnings).toEqual([]);
    const alias = loadConfig({ argv: [...WORKERS, '--upstream-api-key', 'u'] });
    expect(alias.ok && alias.value.upstreamApiKey).toBe('u');
    const bad = loadConfig({
      argv: ['--config', 'k.yaml'],
      readFile: files({ 'k.yaml': 'upstreamApiKey: 12345\n' }),
    });
    expect(issues(bad).join('\n')).not.toContain('12345');
    expect(issues(loadConfig({ argv: [...WORKERS, '--api-key', '--client-api-key', 'k'] }))).toEqual([
      '--api-key: requires a value (KEY)',
    ]);
  });

  it('takes the key validation URLs from the flag, or from $API_KEY_VALIDATION_URLS as vllm-router', () => {
    const urls = (argv: string[], env = {}) => {
      const result = loadConfig({ argv: [...WORKERS, ...argv], env });
      if (!result.ok) throw result.error;
      return result.value.keyValidation?.urls;
    };
    expect(urls(['--api-key-validation-urls', 'http://a/x', 'http://b/y', '--port', '1'])).toEqual([
      'http://a/x',
      'http://b/y',
    ]);
    expect(urls([], { API_KEY_VALIDATION_URLS: 'http://c/z, http://d/w' })).toEqual([
      'http://c/z',
      'http://d/w',
    ]);
    expect(urls([])).toEqual([]);
  });
});

describe('the nested config file', () => {
  it('points a flat key from before the sections to its new place', () => {
    const result = resolveConfig({
      prefill: [P],
      decode: [D],
      nixlOnMissingParams: 'fail',
      healthCheckIntervalMs: 0,
    });
    expect(result.ok ? [] : result.error.issues.map(formatConfigIssue)).toEqual([
      "nixlOnMissingParams: unknown key (did you mean 'nixl.onMissingParams'?)",
      "healthCheckIntervalMs: unknown key (did you mean 'health.checkIntervalMs'?)",
    ]);
    const nested = resolveConfig({ prefill: [P], decode: [D], health: { checkIntervalMs: 0 } });
    expect(nested.ok && nested.value.health).toMatchObject({ checkIntervalMs: 0, checkTimeoutMs: 5_000 });
  });
});

describe('resolveConfig', () => {
  it('validates a config object in the file shape', () => {
    const result = resolveConfig({ prefill: [P], decode: [D], port: 0 });
    expect(result.ok && result.value.port).toBe(0);
    const bad = resolveConfig({ prefill: [], decode: [D], colour: 'red' });
    expect(bad.ok ? [] : bad.error.issues.map(formatConfigIssue)).toEqual([
      'colour: unknown key',
      'prefill: must list at least one worker',
    ]);
    expect(resolveConfig('nope').ok).toBe(false);
    expect(resolveConfig({ prefill: [P], decode: [D], host: () => 'x' }).ok).toBe(false);
  });
});
