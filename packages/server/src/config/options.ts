/**
 * The command-line option table: the only list of pd-router's flags. The parser, `--help` and
 * docs/configuration.md are all generated from it, and a test checks that every flag with a `key`
 * maps to a property of the JSON schema (which supplies its type, default and description).
 */

export type OptionKind =
  /** No value: present or not. */
  | 'flag'
  /** On/off: `--x` (on), `--x=true|false`, `--no-x` (off). */
  | 'boolean'
  | 'string'
  | 'integer'
  | 'number'
  /** One of the schema's `enum` values. */
  | 'enum'
  /** A worker spec; `--prefill` also takes vllm-router's optional bootstrap-port token. */
  | 'worker'
  /** Repeatable and comma-separated: every occurrence adds to the list. */
  | 'list';

export type OptionGroup =
  | 'Workers'
  | 'Discovery'
  | 'Routing policies'
  | 'cache_aware policy'
  | 'Server'
  | 'Timeouts'
  | 'Health checks'
  | 'Authentication'
  | 'Observability'
  | 'General';

export interface OptionSpec {
  readonly flag: `--${string}`;
  readonly alias?: `-${string}`;
  readonly kind: OptionKind;
  /** Dotted path in the config file (`cacheAware.cacheThreshold`); absent: command line only. */
  readonly key?: string;
  readonly group: OptionGroup;
  /** Placeholder of the value in `--help` (`URL`, `N`, `MS`). */
  readonly valueName?: string;
  readonly repeatable?: boolean;
  /** Never echo the value in messages. */
  readonly secret?: boolean;
  /** Accepted for vllm-router compatibility and otherwise ignored. */
  readonly ignored?: boolean;
  /** Command-line-only options describe themselves; keyed ones take this from the schema. */
  readonly description?: string;
  /** Shown instead of the schema default when the default is computed (`same as --policy`). */
  readonly defaultText?: string;
  /**
   * A `list` that also takes the following `key=value` tokens, as vllm-router's
   * `--selector a=b c=d` (clap `num_args = 0..`).
   */
  readonly greedy?: boolean;
}

export const OPTION_GROUPS: readonly OptionGroup[] = [
  'Workers',
  'Discovery',
  'Routing policies',
  'cache_aware policy',
  'Server',
  'Timeouts',
  'Health checks',
  'Authentication',
  'Observability',
  'General',
];

export const OPTIONS: readonly OptionSpec[] = [
  {
    flag: '--vllm-pd-disaggregation',
    kind: 'flag',
    group: 'Workers',
    description:
      "Accepted for vllm-router compatibility: prefill/decode disaggregation is pd-router's only mode, with or without it.",
  },
  {
    flag: '--prefill',
    kind: 'worker',
    key: 'prefill',
    repeatable: true,
    group: 'Workers',
    valueName: 'URL[:zmq://HOST:PORT] [BOOTSTRAP_PORT|none]',
    description:
      "A prefill worker; repeat for more. The ZMQ address is the worker's P2P NCCL kv address for request ids (unused with --kv-connector nixl). vllm-router's trailing BOOTSTRAP_PORT or none is accepted and ignored.",
  },
  {
    flag: '--decode',
    kind: 'worker',
    key: 'decode',
    repeatable: true,
    group: 'Workers',
    valueName: 'URL[:zmq://HOST:PORT]',
    description: 'A decode worker; repeat for more.',
  },
  { flag: '--kv-connector', kind: 'enum', key: 'kvConnector', group: 'Workers', valueName: 'NAME' },
  {
    flag: '--nixl-on-missing-params',
    kind: 'enum',
    key: 'nixlOnMissingParams',
    group: 'Workers',
    valueName: 'ACTION',
  },
  { flag: '--nixl-rewrite-remote-host', kind: 'boolean', key: 'nixlRewriteRemoteHost', group: 'Workers' },
  { flag: '--keep-vllm-response-id', kind: 'boolean', key: 'keepVllmResponseId', group: 'Workers' },
  {
    flag: '--intra-node-data-parallel-size',
    kind: 'integer',
    key: 'intraNodeDataParallelSize',
    group: 'Workers',
    valueName: 'N',
  },
  { flag: '--retry-max-retries', kind: 'integer', key: 'retryMaxRetries', group: 'Timeouts', valueName: 'N' },
  {
    flag: '--retry-initial-backoff-ms',
    kind: 'integer',
    key: 'retryInitialBackoffMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  {
    flag: '--retry-max-backoff-ms',
    kind: 'integer',
    key: 'retryMaxBackoffMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  {
    flag: '--retry-backoff-multiplier',
    kind: 'number',
    key: 'retryBackoffMultiplier',
    group: 'Timeouts',
    valueName: 'X',
  },
  {
    flag: '--retry-jitter-factor',
    kind: 'number',
    key: 'retryJitterFactor',
    group: 'Timeouts',
    valueName: 'X',
  },
  { flag: '--disable-retries', kind: 'boolean', key: 'disableRetries', group: 'Timeouts' },
  {
    flag: '--request-timeout-secs',
    kind: 'integer',
    key: 'requestTimeoutSecs',
    group: 'Timeouts',
    valueName: 'SECS',
  },
  {
    flag: '--max-concurrent-requests',
    kind: 'integer',
    key: 'maxConcurrentRequests',
    group: 'Server',
    valueName: 'N',
  },
  { flag: '--queue-size', kind: 'integer', key: 'queueSize', group: 'Server', valueName: 'N' },
  {
    flag: '--queue-timeout-secs',
    kind: 'integer',
    key: 'queueTimeoutSecs',
    group: 'Server',
    valueName: 'SECS',
  },
  {
    flag: '--rate-limit-tokens-per-second',
    kind: 'integer',
    key: 'rateLimitTokensPerSecond',
    group: 'Server',
    valueName: 'N',
    defaultText: 'same as --max-concurrent-requests',
  },
  {
    flag: '--vllm-discovery-address',
    kind: 'string',
    key: 'vllmDiscoveryAddress',
    group: 'Discovery',
    valueName: 'HOST:PORT',
    defaultText: 'none (off)',
  },
  { flag: '--discovery-ttl-ms', kind: 'integer', key: 'discoveryTtlMs', group: 'Discovery', valueName: 'MS' },
  {
    flag: '--discovery-allow',
    kind: 'list',
    key: 'discoveryAllow',
    repeatable: true,
    group: 'Discovery',
    valueName: 'CIDR[,CIDR...]',
    defaultText: 'private and loopback ranges',
  },
  {
    flag: '--discovery-max-workers',
    kind: 'integer',
    key: 'discoveryMaxWorkers',
    group: 'Discovery',
    valueName: 'N',
  },
  {
    flag: '--discovery-rate-limit',
    kind: 'integer',
    key: 'discoveryRateLimit',
    group: 'Discovery',
    valueName: 'N',
  },
  { flag: '--service-discovery', kind: 'flag', key: 'serviceDiscovery', group: 'Discovery' },
  {
    flag: '--selector',
    kind: 'list',
    key: 'selector',
    repeatable: true,
    greedy: true,
    group: 'Discovery',
    valueName: 'KEY=VALUE[,KEY=VALUE...]',
    defaultText: 'none',
  },
  {
    flag: '--prefill-selector',
    kind: 'list',
    key: 'prefillSelector',
    repeatable: true,
    greedy: true,
    group: 'Discovery',
    valueName: 'KEY=VALUE[,KEY=VALUE...]',
    defaultText: 'none',
  },
  {
    flag: '--decode-selector',
    kind: 'list',
    key: 'decodeSelector',
    repeatable: true,
    greedy: true,
    group: 'Discovery',
    valueName: 'KEY=VALUE[,KEY=VALUE...]',
    defaultText: 'none',
  },
  {
    flag: '--service-discovery-namespace',
    kind: 'string',
    key: 'serviceDiscoveryNamespace',
    group: 'Discovery',
    valueName: 'NAME',
    defaultText: 'none (all namespaces)',
  },
  {
    flag: '--service-discovery-port',
    kind: 'integer',
    key: 'serviceDiscoveryPort',
    group: 'Discovery',
    valueName: 'PORT',
  },
  {
    flag: '--kubeconfig',
    kind: 'string',
    key: 'kubeconfig',
    group: 'Discovery',
    valueName: 'FILE',
    defaultText: 'none (in-cluster service account)',
  },
  { flag: '--policy', kind: 'enum', key: 'policy', group: 'Routing policies', valueName: 'NAME' },
  {
    flag: '--decode-first-tokens',
    kind: 'integer',
    key: 'decodeFirstTokens',
    group: 'Routing policies',
    valueName: 'N',
  },
  {
    flag: '--prefill-policy',
    kind: 'enum',
    key: 'prefillPolicy',
    group: 'Routing policies',
    valueName: 'NAME',
    defaultText: 'same as --policy',
  },
  {
    flag: '--decode-policy',
    kind: 'enum',
    key: 'decodePolicy',
    group: 'Routing policies',
    valueName: 'NAME',
    defaultText: 'same as --policy',
  },
  {
    flag: '--cache-threshold',
    kind: 'number',
    key: 'cacheAware.cacheThreshold',
    group: 'cache_aware policy',
    valueName: 'RATIO',
  },
  {
    flag: '--balance-abs-threshold',
    kind: 'integer',
    key: 'cacheAware.balanceAbsThreshold',
    group: 'cache_aware policy',
    valueName: 'N',
  },
  {
    flag: '--balance-rel-threshold',
    kind: 'number',
    key: 'cacheAware.balanceRelThreshold',
    group: 'cache_aware policy',
    valueName: 'RATIO',
  },
  {
    flag: '--max-tree-size',
    kind: 'integer',
    key: 'cacheAware.maxTreeSize',
    group: 'cache_aware policy',
    valueName: 'CHARS',
  },
  {
    flag: '--eviction-interval',
    kind: 'integer',
    group: 'cache_aware policy',
    valueName: 'SECS',
    ignored: true,
    description:
      'Accepted for vllm-router compatibility and ignored: pd-router evicts as it inserts, so a tree never exceeds --max-tree-size.',
    defaultText: 'none',
  },
  { flag: '--host', kind: 'string', key: 'host', group: 'Server', valueName: 'ADDR' },
  { flag: '--port', kind: 'integer', key: 'port', group: 'Server', valueName: 'PORT' },
  { flag: '--max-payload-size', kind: 'integer', key: 'maxPayloadSize', group: 'Server', valueName: 'BYTES' },
  { flag: '--max-json-elements', kind: 'integer', key: 'maxJsonElements', group: 'Server', valueName: 'N' },
  {
    flag: '--parse-budget-bytes',
    kind: 'integer',
    key: 'parseBudgetBytes',
    group: 'Server',
    valueName: 'BYTES',
  },
  { flag: '--max-connections', kind: 'integer', key: 'maxConnections', group: 'Server', valueName: 'N' },
  { flag: '--backlog', kind: 'integer', key: 'backlog', group: 'Server', valueName: 'N' },
  {
    flag: '--keep-alive-timeout-ms',
    kind: 'integer',
    key: 'keepAliveTimeoutMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  { flag: '--body-timeout-ms', kind: 'integer', key: 'bodyTimeoutMs', group: 'Timeouts', valueName: 'MS' },
  {
    flag: '--body-min-rate',
    kind: 'integer',
    key: 'bodyMinRate',
    group: 'Timeouts',
    valueName: 'BYTES_PER_S',
  },
  {
    flag: '--upstream-connections',
    kind: 'integer',
    key: 'upstreamConnections',
    group: 'Server',
    valueName: 'N',
  },
  {
    flag: '--shutdown-timeout-ms',
    kind: 'integer',
    key: 'shutdownTimeoutMs',
    group: 'Server',
    valueName: 'MS',
  },
  {
    flag: '--prefill-timeout-ms',
    kind: 'integer',
    key: 'prefillTimeoutMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  {
    flag: '--decode-ttft-timeout-ms',
    kind: 'integer',
    key: 'decodeTtftTimeoutMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  {
    flag: '--stream-idle-timeout-ms',
    kind: 'integer',
    key: 'streamIdleTimeoutMs',
    group: 'Timeouts',
    valueName: 'MS',
  },
  {
    flag: '--health-check-interval-secs',
    kind: 'integer',
    key: 'healthCheckIntervalSecs',
    group: 'Health checks',
    valueName: 'SECS',
  },
  {
    flag: '--health-check-interval-ms',
    kind: 'integer',
    key: 'healthCheckIntervalMs',
    group: 'Health checks',
    valueName: 'MS',
  },
  {
    flag: '--health-check-timeout-secs',
    kind: 'integer',
    key: 'healthCheckTimeoutSecs',
    group: 'Health checks',
    valueName: 'SECS',
  },
  {
    flag: '--health-check-timeout-ms',
    kind: 'integer',
    key: 'healthCheckTimeoutMs',
    group: 'Health checks',
    valueName: 'MS',
  },
  {
    flag: '--health-check-endpoint',
    kind: 'string',
    key: 'healthCheckEndpoint',
    group: 'Health checks',
    valueName: 'PATH',
  },
  {
    flag: '--health-failure-threshold',
    kind: 'integer',
    key: 'healthFailureThreshold',
    group: 'Health checks',
    valueName: 'N',
  },
  {
    flag: '--health-success-threshold',
    kind: 'integer',
    key: 'healthSuccessThreshold',
    group: 'Health checks',
    valueName: 'N',
  },
  {
    flag: '--cb-failure-threshold',
    kind: 'integer',
    key: 'cbFailureThreshold',
    group: 'Health checks',
    valueName: 'N',
  },
  {
    flag: '--cb-success-threshold',
    kind: 'integer',
    key: 'cbSuccessThreshold',
    group: 'Health checks',
    valueName: 'N',
  },
  {
    flag: '--cb-timeout-duration-secs',
    kind: 'integer',
    key: 'cbTimeoutDurationSecs',
    group: 'Health checks',
    valueName: 'SECS',
  },
  {
    flag: '--cb-window-duration-secs',
    kind: 'integer',
    key: 'cbWindowDurationSecs',
    group: 'Health checks',
    valueName: 'SECS',
  },
  {
    flag: '--disable-circuit-breaker',
    kind: 'flag',
    key: 'disableCircuitBreaker',
    group: 'Health checks',
  },
  {
    flag: '--circuit-failure-threshold',
    kind: 'integer',
    key: 'circuitFailureThreshold',
    group: 'Health checks',
    valueName: 'N',
  },
  {
    flag: '--circuit-open-ms',
    kind: 'integer',
    key: 'circuitOpenMs',
    group: 'Health checks',
    valueName: 'MS',
  },
  {
    flag: '--upstream-api-key',
    kind: 'string',
    key: 'upstreamApiKey',
    group: 'Authentication',
    valueName: 'KEY',
    secret: true,
    defaultText: '$OPENAI_API_KEY if set, else the literal None',
  },
  {
    flag: '--api-key',
    kind: 'list',
    key: 'apiKeys',
    repeatable: true,
    group: 'Authentication',
    valueName: 'KEY[,KEY...]',
    secret: true,
    defaultText: 'none (no inbound auth)',
  },
  {
    flag: '--admin-api-key',
    kind: 'string',
    key: 'adminApiKey',
    group: 'Authentication',
    valueName: 'KEY',
    secret: true,
    defaultText: 'none (admin endpoints off)',
  },
  { flag: '--log-level', kind: 'enum', key: 'logLevel', group: 'Observability', valueName: 'LEVEL' },
  {
    flag: '--prometheus-port',
    kind: 'integer',
    key: 'prometheusPort',
    group: 'Observability',
    valueName: 'PORT',
  },
  {
    flag: '--prometheus-host',
    kind: 'string',
    key: 'prometheusHost',
    group: 'Observability',
    valueName: 'ADDR',
  },
  {
    flag: '--config',
    kind: 'string',
    group: 'General',
    valueName: 'FILE',
    description:
      'JSON or YAML file of settings (keys: see config.schema.json); flags given on the command line override it.',
    defaultText: 'none',
  },
  { flag: '--help', alias: '-h', kind: 'flag', group: 'General', description: 'Print this help and exit.' },
  {
    flag: '--version',
    alias: '-V',
    kind: 'flag',
    group: 'General',
    description: 'Print the version and exit.',
  },
];

const byName = new Map<string, OptionSpec>();
for (const option of OPTIONS) {
  byName.set(option.flag, option);
  if (option.alias !== undefined) byName.set(option.alias, option);
}

/** The option named `name` (`--port`, `-h`), if any. */
export function findOption(name: string): OptionSpec | undefined {
  return byName.get(name);
}

/** The `boolean` option that `--no-NAME` turns off, if `name` is such a negation. */
export function findNegatedOption(name: string): OptionSpec | undefined {
  if (!name.startsWith('--no-')) return undefined;
  const option = byName.get(`--${name.slice('--no-'.length)}`);
  return option?.kind === 'boolean' ? option : undefined;
}
