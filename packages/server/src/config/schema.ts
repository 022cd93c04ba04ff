import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { IntakeConfig } from './types.js';

/**
 * The one table of pd-router's configuration: a JSON Schema (built with TypeBox, so the
 * TypeScript types are derived from it; docs/decisions/003-config-schema-typebox.md) that is the
 * shape of a `--config` file and of the runtime Config alike. Each property that a flag sets
 * carries its flag, group and value name in `x-cli`, and its `description` is the help text. The
 * argv parser, ajv validation, `--help`, docs/configuration.md and config.schema.json read it.
 * Defaults sit on their property, whose name carries the unit; a comment says why when it differs
 * from vllm-router's.
 */

export const OPTION_GROUPS = [
  'Workers',
  'Discovery',
  'Routing policies',
  'cache_aware policy',
  'Server',
  'Timeouts',
  'Retries and admission',
  'Health checks',
  'Authentication',
  'Observability',
  'Tracing',
  'General',
] as const;
export type OptionGroup = (typeof OPTION_GROUPS)[number];

/** How a schema property appears on the command line. */
export interface CliAnnotation {
  readonly flag: `--${string}`;
  readonly group: OptionGroup;
  /** Other names of the flag (vllm-router's spellings). */
  readonly aliases?: readonly `--${string}`[];
  /** Placeholder of the value in `--help` (`URL`, `N`, `MS`). */
  readonly valueName?: string;
  /** A boolean written as a bare switch (`--service-discovery`), with no `=false` and no `--no-` form. */
  readonly switch?: true;
  /** Never echo the value in messages. */
  readonly secret?: true;
  /** Shown instead of the schema default when the default is computed (`same as --policy`). */
  readonly defaultText?: string;
  /**
   * A list that also takes the following tokens, as vllm-router's `--selector a=b c=d`: `labels`
   * takes `key=value` tokens, `all` every token up to the next flag.
   */
  readonly greedy?: 'labels' | 'all';
  /**
   * Refused with "not yet supported: REASON" until its behaviour lands: the owner of that
   * behaviour deletes this one line. Never accepted and ignored.
   */
  readonly pending?: string;
  /** Values outside the schema's `enum` that vllm-router takes, each with why pd-router refuses it. */
  readonly refusedValues?: Readonly<Record<string, string>>;
}

/**
 * Who may register when `--discovery-allow` is not given: the private (RFC 1918), shared (RFC 6598,
 * some Kubernetes networks) and loopback ranges, where vLLM instances of a deployment live; a
 * public address must be listed explicitly (`0.0.0.0/0` admits everyone).
 */
export const DEFAULT_DISCOVERY_ALLOW: readonly string[] = Object.freeze([
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
]);
export const DEFAULT_DISCOVERY_MAX_WORKERS = 256;
export const DEFAULT_DISCOVERY_RATE_LIMIT = 10;
const DEFAULT_HEALTH_CHECK_INTERVAL_SECS = 10;

/**
 * 2^22 JSON values: four times the longest contexts of common models as a token-id prompt; a
 * 32 MiB body of one-digit numbers holds about 16.7 million. Parsing is linear whatever the count:
 * this bounds what policies that read the whole prompt (cache_aware, consistent_hash) may build.
 */
export const DEFAULT_MAX_JSON_ELEMENTS = 4_194_304;
/** Two bodies of the default --max-payload-size canonicalized at once. */
export const DEFAULT_PARSE_BUDGET_BYTES = 67_108_864;
/** Fastify's default: above the 60 s idle timeout of common load balancers, so they close first. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** A 32 MiB body at 300 KB/s; slow senders are cut sooner by the minimum rate. */
export const DEFAULT_BODY_TIMEOUT_MS = 120_000;
/** Any real client sends a JSON body far faster; a byte-a-second sender is cut after 10 s. */
export const DEFAULT_BODY_MIN_RATE = 1_024;
/** Node's (and Linux's usual somaxconn) default. */
export const DEFAULT_BACKLOG = 511;
/** Connection and body limits of a hand-built Config without `intake`. */
export const DEFAULT_INTAKE_CONFIG: IntakeConfig = Object.freeze({
  maxConnections: 0,
  backlog: DEFAULT_BACKLOG,
  keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  bodyTimeoutMs: DEFAULT_BODY_TIMEOUT_MS,
  bodyMinRate: DEFAULT_BODY_MIN_RATE,
  maxJsonElements: DEFAULT_MAX_JSON_ELEMENTS,
  parseBudgetBytes: DEFAULT_PARSE_BUDGET_BYTES,
});

/** pd_aware decode-first: prompts with at most this many uncached tokens skip the prefill leg. */
export const DEFAULT_DECODE_FIRST_TOKENS = 512;

/** setTimeout clamps larger delays to 1 ms, so no timeout may exceed this. */
const MAX_TIMER_MS = 2_147_483_647;
const POLICY_VALUES = {
  sticky_round_robin: "a policy of vllm-router's Python launcher only, not of its router",
};
const CLI_KEYS = [
  'group',
  'aliases',
  'switch',
  'secret',
  'defaultText',
  'greedy',
  'pending',
  'refusedValues',
];

type Usage = `--${string}`;
/** A property's help text and CLI extras; any other key is a JSON Schema keyword of the property. */
type Options = Partial<Omit<CliAnnotation, 'flag' | 'valueName'>> & { readonly help: string } & Record<
    string,
    unknown
  >;

/** The schema keywords and `x-cli` of a property, from its usage line (`--port PORT`) and options. */
function annotate(usage: Usage, { help, ...options }: Options) {
  const space = usage.indexOf(' ');
  const cli: Record<string, unknown> = {
    flag: space === -1 ? usage : usage.slice(0, space),
    group: 'General',
  };
  if (space !== -1) cli['valueName'] = usage.slice(space + 1);
  const keywords: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (CLI_KEYS.includes(key) ? cli : keywords)[key] = value;
  }
  return { ...keywords, description: help, 'x-cli': cli as unknown as CliAnnotation };
}

/** Stamps a help group on every property of `properties`. */
function inGroup<T extends Record<string, TSchema>>(group: OptionGroup, properties: T): T {
  for (const property of Object.values(properties)) {
    const cli = property['x-cli'] as { group: OptionGroup } | undefined;
    if (cli !== undefined) cli.group = group;
  }
  return properties;
}

/** A string enum as JSON Schema's `enum` (so ajv reports "must be one of"), typed as its union. */
const oneOf = <const T extends readonly string[]>(values: T, usage: Usage, options: Options) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: values, ...annotate(usage, options) });
const int = (usage: Usage, fallback: number, options: Options) =>
  Type.Integer(annotate(usage, { minimum: 1, maximum: 1_000_000, default: fallback, ...options }));
const num = (usage: Usage, fallback: number, options: Options) =>
  Type.Number({ minimum: 0, default: fallback, ...annotate(usage, options) });
const ms = (usage: Usage, fallback: number, options: Options) =>
  int(`${usage} MS`, fallback, { maximum: MAX_TIMER_MS, ...options });
const port = (usage: Usage, fallback: number, options: Options) =>
  int(`${usage} PORT`, fallback, { minimum: 0, maximum: 65_535, ...options });
const bool = (usage: Usage, fallback: boolean, options: Options) =>
  Type.Boolean({ default: fallback, ...annotate(usage, options) });
const text = (usage: Usage, options: Options) =>
  Type.Optional(Type.String({ minLength: 1, ...annotate(usage, options) }));
const list = (usage: Usage, format: string | undefined, options: Options) =>
  Type.Array(Type.String({ minLength: 1, ...(format ? { format } : {}) }), {
    default: [],
    ...annotate(usage, options),
  });
const labels = (usage: Usage, help: string) =>
  list(`${usage} KEY=VALUE[,KEY=VALUE...]`, 'label', { help, greedy: 'labels', defaultText: 'none' });
/** A nested section of the file, every flag of it in one help group. */
const section = <T extends Record<string, TSchema>>(group: OptionGroup, description: string, properties: T) =>
  Type.Object(inGroup(group, properties), { default: {}, additionalProperties: false, description });

const POLICY_NAMES = [
  'round_robin',
  'random',
  'consistent_hash',
  'power_of_two',
  'cache_aware',
  'sticky_least_loaded',
  'rendezvous_hash',
  'pd_aware',
] as const;
const poolPolicy = (role: string) =>
  Type.Optional(
    oneOf(POLICY_NAMES, `--${role}-policy NAME`, {
      help: `Policy for the ${role} pool (default: the general policy).`,
      defaultText: 'same as --policy',
      refusedValues: POLICY_VALUES,
    }),
  );

/** A worker spec string, or `{ url, bootstrapPort }` (minLength applies to strings, the rest to objects). */
const workerSpec = Type.Unsafe<string | { url: string; bootstrapPort?: number | null }>({
  type: ['string', 'object'],
  minLength: 1,
  properties: {
    url: { type: 'string', minLength: 1, description: 'http(s)://HOST:PORT[:zmq://HOST:PORT]' },
    bootstrapPort: {
      type: ['integer', 'null'],
      minimum: 1,
      maximum: 65_535,
      description:
        "The prefill's Mooncake bootstrap port (vllm-router's `--prefill URL PORT`); with kvConnector mooncake, 8998 when absent or null; unused by the other connectors.",
    },
  },
  required: ['url'],
  additionalProperties: false,
  description: 'http(s)://HOST:PORT, optionally followed by :zmq://HOST:PORT (the P2P NCCL kv address).',
});
const workers = (usage: Usage, help: string) =>
  Type.Optional(
    Type.Array(workerSpec, {
      minItems: 1,
      ...annotate(usage, { help: `${help} Optional with --vllm-discovery-address or --service-discovery.` }),
    }),
  );

const cacheAwareSchema = section(
  'cache_aware policy',
  'Tuning of the cache_aware policy.',
  // vllm-router's CLI defaults (its library defaults 0.5/32/1.1 are not what users get).
  {
    cacheThreshold: num('--cache-threshold RATIO', 0.3, {
      maximum: 1,
      help: 'Prefix match ratio above which a request goes to the worker holding that prefix; otherwise to the worker with the smallest tree.',
    }),
    balanceAbsThreshold: int('--balance-abs-threshold N', 64, {
      minimum: 0,
      maximum: undefined,
      help: 'Absolute half of the load-imbalance test: when max - min in-flight requests exceeds it and max > min * the relative threshold, the least-loaded worker wins.',
    }),
    balanceRelThreshold: num('--balance-rel-threshold RATIO', 1.5, {
      help: 'Relative half of the load-imbalance test: max > min * this (see the absolute threshold).',
    }),
    // 2^24 characters per worker tree (vllm-router: 2^26): a JS radix tree costs 2+ bytes per char.
    maxTreeSize: int('--max-tree-size CHARS', 16_777_216, {
      maximum: 2_147_483_647,
      help: 'Characters kept per worker prefix tree; least recently used leaves are evicted at once beyond it.',
    }),
  },
);

const nixlSchema = section('Workers', 'NIXL connector settings (docs/kv-connectors.md).', {
  // vLLM's toy proxy sends the decode without params (it recomputes); `fail` is opt-in.
  onMissingParams: oneOf(['recompute', 'fail'], '--nixl-on-missing-params ACTION', {
    default: 'recompute',
    help: "NIXL: when the prefill answers 2xx without usable kv_transfer_params (no key, empty or invalid, or a body that is not a JSON object), recompute (send the decode the client body without them, as vLLM's toy proxy; counted in pd_router_nixl_recomputes_total and logged) or fail (502). A null value (vLLM: nothing held, e.g. the first token was EOS) always recomputes.",
  }),
  // vLLM's side-channel host defaults to `localhost`, useless to a decode on another machine.
  rewriteRemoteHost: bool('--nixl-rewrite-remote-host', true, {
    help: "NIXL: when a prefill that is not on the router's machine answers a loopback remote_host (vLLM's side-channel host defaults to localhost), send the decode the prefill's own host instead.",
  }),
});

const discoverySchema = section('Discovery', 'vLLM P2P NCCL registration over ZMQ.', {
  allow: list('--discovery-allow CIDR[,CIDR...]', 'cidr', {
    defaultText: 'private and loopback ranges',
    help: "IPv4 CIDRs that limit who may register: the sender's IP (checked at the ZeroMQ handshake, through ZAP) and the announced http_address and zmq_address hosts must all fall in them; others are refused and counted. Unset: the private and loopback ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8), with a start-up warning; 0.0.0.0/0 admits everyone.",
  }),
  // Far above a real deployment's workers; bounds what a flood of fake registrations can cost.
  maxWorkers: int('--discovery-max-workers N', DEFAULT_DISCOVERY_MAX_WORKERS, {
    help: 'Most workers discovery may hold (ZMQ registration and Kubernetes together); registrations of new workers beyond it are refused and counted (reason max_workers).',
  }),
  // Messages a second per sender: vLLM sends one every 3 s, so this is 30 times that.
  rateLimit: int('--discovery-rate-limit N', DEFAULT_DISCOVERY_RATE_LIMIT, {
    help: 'Registration messages a second one sender (a ZeroMQ connection) may send, in bursts of as many; beyond it they are dropped and counted (reason rate_limited). vLLM sends one every 3 s.',
  }),
  address: text('--vllm-discovery-address HOST:PORT', {
    format: 'host-port',
    defaultText: 'none (off)',
    help: "HOST:PORT of a ZMQ ROUTER where vLLM P2P NCCL instances register (their kv_connector_extra_config proxy_ip/proxy_port), as vllm-router's flag; port 0 binds any free port. Registered workers join the pools, beside any static ones.",
  }),
  // The reference proxy's registration TTL: vLLM pings every 3 s, so one late ping is tolerated.
  ttlMs: ms('--discovery-ttl-ms', 5_000, {
    help: 'A registered worker that has not pinged for this long leaves the pools (vLLM pings every 3 s).',
  }),
});

const kubernetesSchema = section('Discovery', 'Kubernetes pod discovery.', {
  enabled: bool('--service-discovery', false, {
    switch: true,
    help: 'Discover workers as Kubernetes pods (ready pods matching the prefill or decode selector join, deleted or unready ones leave).',
  }),
  selector: labels('--selector', 'Labels (key=value) every discovered pod must carry, in both pools.'),
  prefillSelector: labels('--prefill-selector', 'Labels (key=value) of prefill pods.'),
  decodeSelector: labels(
    '--decode-selector',
    'Labels (key=value) of decode pods (a pod matching both selectors is a prefill worker).',
  ),
  namespace: text('--service-discovery-namespace NAME', {
    defaultText: 'none (all namespaces)',
    help: 'Namespace whose pods are watched; unset: every namespace.',
  }),
  // vLLM's default port (vllm-router's, 80, is rarely what a vLLM pod serves on).
  port: port('--service-discovery-port', 8_000, {
    minimum: 1,
    help: "HTTP port of vLLM in discovered pods (a pod's pd-router.io/http-port annotation overrides it).",
  }),
  kubeconfig: text('--kubeconfig FILE', {
    defaultText: 'none (in-cluster service account)',
    help: 'Kubeconfig file for pod discovery; unset: the in-cluster service account.',
  }),
});

const healthSchema = section('Health checks', 'Active health checks and the circuit breaker.', {
  checkIntervalMs: Type.Optional(
    int('--health-check-interval-ms MS', 0, {
      default: undefined,
      minimum: 0,
      maximum: MAX_TIMER_MS,
      defaultText: 'from --health-check-interval-secs',
      help: 'The same as --health-check-interval-secs, in ms; wins when both are given. 0: no periodic checks.',
    }),
  ),
  checkTimeoutMs: Type.Optional(
    int('--health-check-timeout-ms MS', 0, {
      default: undefined,
      maximum: MAX_TIMER_MS,
      defaultText: 'from --health-check-timeout-secs',
      help: 'The same as --health-check-timeout-secs, in ms; wins when both are given.',
    }),
  ),
  // vllm-router's defaults.
  failureThreshold: int('--health-failure-threshold N', 3, {
    help: 'Consecutive failed health checks that take a worker out of the pools.',
  }),
  successThreshold: int('--health-success-threshold N', 2, {
    help: 'Consecutive good health checks that bring an unhealthy worker back.',
  }),
  circuitFailureThreshold: Type.Optional(
    int('--circuit-failure-threshold N', 0, {
      default: undefined,
      minimum: 0,
      defaultText: 'from --cb-failure-threshold',
      help: 'The same as --cb-failure-threshold (wins when both are given); 0: no circuit breaker, as --disable-circuit-breaker.',
    }),
  ),
  circuitOpenMs: Type.Optional(
    int('--circuit-open-ms MS', 0, {
      default: undefined,
      maximum: MAX_TIMER_MS,
      defaultText: 'from --cb-timeout-duration-secs',
      help: 'The same as --cb-timeout-duration-secs, in ms; wins when both are given.',
    }),
  ),
});

/** Static workers are required unless a discovery source can bring them. */
const discovered = (section: string, key: string, value: unknown) => ({
  type: 'object',
  properties: { [section]: { type: 'object', properties: { [key]: value }, required: [key] } },
  required: [section],
});

export const configSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'Path or URL of this schema, for editors. Ignored.' })),
    ...inGroup('Server', {
      host: Type.String({
        minLength: 1,
        default: '127.0.0.1',
        ...annotate('--host ADDR', { help: 'Address to listen on.' }),
      }),
      // vllm-router's default port, so a drop-in replacement needs no new client configuration.
      port: port('--port', 30_000, {
        help: 'Port to listen on (0: any free port; the log line says which).',
      }),
    }),
    ...inGroup('Workers', {
      prefill: workers(
        '--prefill URL[:zmq://HOST:PORT] [BOOTSTRAP_PORT|none]',
        "Prefill workers, in order (round_robin follows it); repeat the flag for more. The ZMQ address is the worker's P2P NCCL kv address for request ids (unused with --kv-connector nixl). vllm-router's trailing BOOTSTRAP_PORT or none is accepted and ignored.",
      ),
      decode: workers(
        '--decode URL[:zmq://HOST:PORT]',
        'Decode workers, in order (round_robin follows it); repeat the flag for more.',
      ),
    }),
    ...inGroup('Routing policies', {
      policy: oneOf(POLICY_NAMES, '--policy NAME', {
        default: 'round_robin',
        refusedValues: POLICY_VALUES,
        help: "Policy for both pools unless overridden. Default round_robin, the reference proxy's (vllm-router's is cache_aware).",
      }),
      decodeFirstTokens: int('--decode-first-tokens N', DEFAULT_DECODE_FIRST_TOKENS, {
        minimum: 0,
        help: 'pd_aware with NIXL (decode-first): a request whose prompt part not cached on its chosen decode is at most this many tokens (estimated as characters / 4) goes to that decode alone, which computes the prompt itself (no prefill leg, no KV transfer; pd_router_decode_first_total). 0: always disaggregate. P2P NCCL cannot run a decode alone (docs/routing.md).',
      }),
      prefillPolicy: poolPolicy('prefill'),
      decodePolicy: poolPolicy('decode'),
    }),
    cacheAware: cacheAwareSchema,
    discovery: discoverySchema,
    kubernetes: kubernetesSchema,
    health: healthSchema,
    ...inGroup('Workers', {
      // vllm-router's default is nixl, the reference proxy's p2p-nccl: the worker specs tell which.
      kvConnector: Type.Optional(
        oneOf(['p2p-nccl', 'nixl', 'mooncake'], '--kv-connector NAME', {
          defaultText:
            'p2p-nccl when a worker spec has :zmq:// or --vllm-discovery-address is set, else nixl',
          refusedValues: {
            moriio: 'pd-router has no MoRI-IO connector',
          },
          help: "KV transfer contract of the workers: p2p-nccl (vLLM's P2pNcclConnector; request ids carry the workers' ZMQ addresses, so every worker spec needs :zmq://HOST:PORT) nixl (vLLM's NixlConnector; kv_transfer_params go from the prefill's answer to the decode) or mooncake (vLLM's MooncakeConnector; both legs at once with a transfer_id, the prefill's engine ids from its bootstrap server). See docs/kv-connectors.md.",
        }),
      ),
    }),
    nixl: nixlSchema,
    ...inGroup('Server', {
      // 32 MiB: far above any text prompt; vllm-router's 512 MiB lets one client pin half a GiB of RAM.
      maxPayloadSize: int('--max-payload-size BYTES', 33_554_432, {
        maximum: Number.MAX_SAFE_INTEGER,
        help: 'Largest request body in bytes; larger ones get 413 before being buffered whole.',
      }),
    }),
    ...inGroup('Timeouts', {
      // A prefill (max_tokens=1) of a long prompt on a busy worker can queue for a while.
      prefillTimeoutMs: ms('--prefill-timeout-ms', 120_000, {
        help: 'Budget of the whole prefill leg (connect to complete answer); then 504.',
      }),
      // Non-streaming answers send their first byte only when generation ends, so this must cover that.
      decodeTtftTimeoutMs: ms('--decode-ttft-timeout-ms', 300_000, {
        help: "Budget from sending the decode request to the first byte of its answer's body, headers or not (a stream's first event; a non-streamed body starts when generation ends); then 504.",
      }),
      streamIdleTimeoutMs: ms('--stream-idle-timeout-ms', 60_000, {
        help: "After the decode answer's first body byte, the longest silence between two of its chunks (and the longest a client may leave relayed data unread); no cap on total length.",
      }),
    }),
    ...inGroup('Authentication', {
      upstreamApiKey: Type.Optional(
        Type.String(
          annotate('--api-key KEY', {
            aliases: ['--upstream-api-key'],
            secret: true,
            defaultText: '$OPENAI_API_KEY if set, else the literal None',
            help: 'Key sent to the workers as "Authorization: Bearer KEY", as vllm-router\'s --api-key (default: $OPENAI_API_KEY when set, else the literal None, as the reference proxy).',
          }),
        ),
      ),
      apiKeys: list('--client-api-key KEY[,KEY...]', undefined, {
        secret: true,
        defaultText: 'none (no inbound auth unless --api-key-validation-urls)',
        help: 'Keys clients must send as "Authorization: Bearer KEY" (pd-router\'s own flag: vllm-router\'s --api-key is the worker key).',
      }),
      keyValidation: section('Authentication', "vllm-router's API key validation URLs.", {
        urls: list('--api-key-validation-urls URL...', undefined, {
          greedy: 'all',
          defaultText: '$API_KEY_VALIDATION_URLS (comma-separated) if set, else none',
          help: 'A client bearer token not among --client-api-key is valid when a GET to one of these URLs, carrying it, answers 200; an error or a timeout says no (fail closed).',
        }),
        // vllm-router caches answers forever, so a revoked key stays valid until a restart.
        cacheTtlMs: ms('--api-key-validation-cache-ms', 60_000, {
          help: 'How long a validation answer (yes or no) is trusted before the URLs are asked again.',
        }),
        timeoutMs: ms('--api-key-validation-timeout-ms', 5_000, {
          help: 'Budget of one validation GET; a URL that does not answer within it says no.',
        }),
      }),
      adminApiKey: text('--admin-api-key KEY', {
        secret: true,
        defaultText: 'none (admin endpoints off)',
        help: 'Key required for admin endpoints (worker management); unset: admin endpoints are off.',
      }),
    }),
    ...inGroup('Observability', {
      logLevel: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], '--log-level LEVEL', {
        default: 'info',
        help: "Log level (pino); vllm-router's and Python's warning and critical are read as warn and fatal.",
      }),
      logFormat: oneOf(['json', 'text'], '--log-format FORMAT', {
        default: 'json',
        help: 'json: one JSON object a line (pino); text: one plain line a record (time, level, message, then key=value fields), for a human or grep.',
      }),
      logDir: text('--log-dir DIR', {
        defaultText: 'none (standard output only)',
        help: 'Also append every log line to DIR/pd-router.log (the directory is created if missing).',
      }),
      requestIdHeaders: list('--request-id-headers HEADER...', undefined, {
        greedy: 'all',
        defaultText: 'none',
        help: "Client headers that carry the client's own request id, tried in order: the first present is echoed back as x-request-id and logged with the request, never sent to the workers.",
      }),
      // vllm-router's 29000 would make every router take a second port, and collide when two share a host.
      prometheusPort: port('--prometheus-port', 0, {
        help: "Port of a separate /metrics listener; 0: /metrics on the main port. vllm-router's default is 29000: give --prometheus-port 29000 for its layout.",
      }),
      prometheusHost: Type.String({
        minLength: 1,
        default: '127.0.0.1',
        ...annotate('--prometheus-host ADDR', {
          help: 'Address of the separate /metrics listener (used when the Prometheus port is not 0).',
        }),
      }),
    }),
    ...inGroup('Server', {
      // Each in-flight decode stream holds one connection: let requests queue in vLLM, not in the router.
      upstreamConnections: int('--upstream-connections N', 1024, {
        help: 'Most connections per upstream worker (undici Pool size).',
      }),
      // Below Kubernetes' default 30 s terminationGracePeriod, so we exit before SIGKILL.
      shutdownTimeoutMs: ms('--shutdown-timeout-ms', 25_000, {
        minimum: 0,
        help: 'On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits.',
      }),
    }),
    ...inGroup('Server', {
      corsAllowedOrigins: list('--cors-allowed-origins ORIGIN...', undefined, {
        greedy: 'all',
        defaultText: 'none (no CORS headers)',
        help: 'Browser origins (scheme://host[:port], or *) allowed to call the API: their requests get Access-Control-Allow-Origin, and OPTIONS preflights are answered.',
      }),
      backend: oneOf(['vllm'], '--backend NAME', {
        aliases: ['--runtime'],
        default: 'vllm',
        refusedValues: {
          openai:
            'meaningless in PD mode: pd-router routes to vLLM prefill/decode workers, not to an OpenAI API',
          trtllm: "meaningless in PD mode: pd-router speaks vLLM's disaggregated protocol only",
          anthropic: "meaningless in PD mode: pd-router speaks vLLM's disaggregated protocol only",
        },
        help: "vllm-router's backend: vllm, the only one PD mode has.",
      }),
    }),
    intake: section('Server', 'Limits on client connections and request bodies.', {
      maxConnections: int('--max-connections N', 0, {
        minimum: 0,
        maximum: 10_000_000,
        help: "Most client connections at once; beyond it a connection gets 503 PD_ERR_TOO_MANY_CONNECTIONS and is closed. 0: the open-files limit minus a reserve for the router's own sockets (a quarter, 64 to 4,096).",
      }),
      backlog: int('--backlog N', DEFAULT_BACKLOG, {
        help: 'Listen backlog: connections the kernel queues before the router accepts them (capped by net.core.somaxconn).',
      }),
      keepAliveTimeoutMs: ms('--keep-alive-timeout-ms', DEFAULT_KEEP_ALIVE_TIMEOUT_MS, {
        help: 'How long an idle kept-alive client connection stays open.',
      }),
      bodyTimeoutMs: ms('--body-timeout-ms', DEFAULT_BODY_TIMEOUT_MS, {
        help: 'A request body must arrive within this long of its headers; then 408 and the connection is closed.',
      }),
      bodyMinRate: int('--body-min-rate BYTES', DEFAULT_BODY_MIN_RATE, {
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        help: 'Bytes per second a request body must keep up over each 10 s; slower gets 408 and the connection is closed. 0: no minimum.',
      }),
      maxJsonElements: int('--max-json-elements N', DEFAULT_MAX_JSON_ELEMENTS, {
        maximum: Number.MAX_SAFE_INTEGER,
        help: 'Most JSON values in a request body (every number, string, literal, array and object); more is a 400 PD_ERR_JSON_TOO_MANY_ELEMENTS.',
      }),
      parseBudgetBytes: int('--parse-budget-bytes BYTES', DEFAULT_PARSE_BUDGET_BYTES, {
        maximum: Number.MAX_SAFE_INTEGER,
        help: 'Bytes of large bodies (over 256 KiB) canonicalized at once; a body beyond it gets 503 PD_ERR_PARSE_BUSY with Retry-After (one body alone is always parsed).',
      }),
    }),
    startup: section('Health checks', 'Waiting for the static workers before serving.', {
      timeoutSecs: int('--worker-startup-timeout-secs SECS', 600, {
        minimum: 0,
        help: 'At start, how long to wait for every static worker to answer GET /health 200; /readiness answers 503 meanwhile, and the process exits 1 naming the workers still down when it runs out. 0: no wait.',
      }),
      checkIntervalSecs: int('--worker-startup-check-interval SECS', 30, {
        help: 'Pause between two rounds of startup health checks (the first round starts at once).',
      }),
    }),
    healthCheck: section('Health checks', "vllm-router's health-check flags.", {
      // 10 s, not vllm-router's 60: a worker that dies while idle (no request trips its circuit) is out
      // within interval x failure threshold, 30 s instead of 3 minutes, for one GET per worker per 10 s.
      intervalSecs: int('--health-check-interval-secs SECS', DEFAULT_HEALTH_CHECK_INTERVAL_SECS, {
        minimum: 0,
        maximum: Math.floor(MAX_TIMER_MS / 1_000),
        help: "Period of the active health check (GET on every worker); 0: no periodic checks (discovered workers are still checked once before they take traffic). vllm-router's default is 60: see docs/dynamic-workers.md.",
      }),
      timeoutSecs: int('--health-check-timeout-secs SECS', 5, {
        maximum: Math.floor(MAX_TIMER_MS / 1_000),
        help: 'A health check not answered 2xx within this counts as failed.',
      }),
      // vLLM's OpenAI server answers it with 200 while its engine is alive.
      endpoint: Type.String({
        pattern: '^/[^\\s]*$',
        default: '/health',
        ...annotate('--health-check-endpoint PATH', {
          help: 'Path of the active health check (a path starting with /).',
        }),
      }),
    }),
    // vllm-router's circuit breaker defaults: 10 failures within 120 s open; 60 s open; 3 good probes close.
    circuitBreaker: section('Health checks', "vllm-router's circuit breaker.", {
      failureThreshold: int('--cb-failure-threshold N', 10, {
        help: "Consecutive failed requests (transport errors, timeouts, 5xx), all within the window, that open a worker's circuit and take it out of its pool (never the pool's last workers: panic mode).",
      }),
      successThreshold: int('--cb-success-threshold N', 3, {
        help: 'Successful probes (requests or health checks, one at a time) that close a half-open circuit.',
      }),
      timeoutDurationSecs: int('--cb-timeout-duration-secs SECS', 60, {
        maximum: Math.floor(MAX_TIMER_MS / 1_000),
        help: 'How long an open circuit keeps its worker out before it is probed (half-open).',
      }),
      windowDurationSecs: int('--cb-window-duration-secs SECS', 120, {
        maximum: Math.floor(MAX_TIMER_MS / 1_000),
        help: 'A failure older than this no longer counts toward opening a circuit.',
      }),
      disabled: bool('--disable-circuit-breaker', false, {
        switch: true,
        help: 'No circuit breaker: only the active health checks take workers out.',
      }),
    }),
    retry: section('Retries and admission', 'Retries of a failed leg (vllm-router).', {
      maxRetries: int('--retry-max-retries N', 5, {
        minimum: 0,
        help: 'Most retries of one request.',
      }),
      initialBackoffMs: ms('--retry-initial-backoff-ms', 50, {
        help: 'Backoff before the first retry.',
      }),
      maxBackoffMs: ms('--retry-max-backoff-ms', 30_000, { help: 'Longest backoff.' }),
      backoffMultiplier: num('--retry-backoff-multiplier X', 1.5, {
        minimum: 1,
        help: 'Each backoff is the previous one times this.',
      }),
      jitterFactor: num('--retry-jitter-factor X', 0.2, {
        maximum: 1,
        help: 'Random spread of each backoff, as a fraction of it.',
      }),
      disabled: bool('--disable-retries', false, { switch: true, help: 'Never retry.' }),
    }),
    admission: section('Retries and admission', 'Admission control (vllm-router).', {
      maxConcurrentRequests: int('--max-concurrent-requests N', 32_768, {
        help: 'Most requests in flight; more wait in the queue.',
      }),
      queueSize: int('--queue-size N', 100, {
        minimum: 0,
        help: 'Most requests waiting for a place; beyond it 429 at once.',
      }),
      queueTimeoutSecs: int('--queue-timeout-secs SECS', 60, {
        help: 'Longest wait in the queue; then 408.',
      }),
      rateLimitTokensPerSecond: Type.Optional(
        Type.Integer({
          minimum: 1,
          ...annotate('--rate-limit-tokens-per-second N', {
            defaultText: 'the --max-concurrent-requests value',
            help: "Token bucket refill rate, as vllm-router's Python launcher.",
          }),
        }),
      ),
    }),
    ...inGroup('Timeouts', {
      requestTimeoutSecs: int('--request-timeout-secs SECS', 1_800, {
        help: 'Cap on a whole request, on top of the per-leg budgets.',
      }),
    }),
    ...inGroup('Workers', {
      keepVllmResponseId: bool('--keep-vllm-response-id', false, {
        help: "Keep vLLM's answer ids (chatcmpl-___prefill_addr_..., naming the workers' addresses) instead of rewriting them to chatcmpl-<hex> (docs/wire-contract.md).",
      }),
      intraNodeDataParallelSize: int('--intra-node-data-parallel-size N', 1, {
        help: 'Data-parallel ranks per worker URL: each URL becomes N workers, each leg carrying X-data-parallel-rank.',
      }),
    }),
    tracing: section('Tracing', 'OpenTelemetry tracing (vllm-router; docs/observability.md).', {
      enabled: bool('--enable-trace', false, {
        switch: true,
        help: 'Export OpenTelemetry spans: one server span per request, child spans for the routing decision and each leg; traceparent goes out on both legs.',
      }),
      otlpTracesEndpoint: text('--otlp-traces-endpoint HOST:PORT|URL', {
        defaultText: '$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT',
        help: 'OTLP collector: HOST:PORT is OTLP/gRPC; an http(s):// URL is OTLP/HTTP, $OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or $OTEL_EXPORTER_OTLP_PROTOCOL picking http/protobuf (default) or http/json.',
      }),
      samplingRatio: num('--otel-sampling-ratio RATIO', 1, {
        maximum: 1,
        help: "Share of new traces sampled; a client's traceparent decides for its own (parent-based).",
      }),
      excludedPaths: list('--otel-excluded-paths PATH...', undefined, {
        greedy: 'all',
        defaultText: 'none',
        help: 'HTTP paths that get no span (exact paths, e.g. /health /metrics).',
      }),
    }),
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/pd-router/pd-router/blob/main/packages/server/config.schema.json',
    title: 'pd-router configuration',
    description:
      'Configuration file of pd-router (--config FILE, JSON or YAML). Command-line flags override it.',
    additionalProperties: false,
    // (ajv's strict mode wants `type` and `properties` beside every `required`.)
    if: {
      type: 'object',
      not: {
        anyOf: [
          discovered('discovery', 'address', true),
          discovered('kubernetes', 'enabled', { const: true }),
        ],
      },
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; the schema is never awaited.
    then: { type: 'object', properties: { prefill: true, decode: true }, required: ['prefill', 'decode'] },
  },
);

/** A validated config object with its defaults filled in (the file shape, complete). */
export type ConfigValues = Static<typeof configSchema>;

/** NIXL settings of a hand-built Config without `nixl`. */
export const DEFAULT_NIXL_CONFIG: Static<typeof nixlSchema> = Object.freeze({
  onMissingParams: 'recompute',
  rewriteRemoteHost: true,
});

/** Every schema node that a flag sets, with its dotted config key, in schema order. */
export function annotatedProperties(
  node: TSchema = configSchema,
  prefix = '',
): { readonly key: string; readonly schema: TSchema; readonly cli: CliAnnotation }[] {
  return Object.entries((node['properties'] ?? {}) as Record<string, TSchema>).flatMap(([name, child]) => {
    const cli = child['x-cli'] as CliAnnotation | undefined;
    if (cli !== undefined) return [{ key: `${prefix}${name}`, schema: child, cli }];
    return annotatedProperties(child, `${prefix}${name}.`);
  });
}

/**
 * The schema as `config.schema.json` publishes it: without the CLI annotations, and without
 * `required` for keys that have a default (ajv fills those before it checks `required`; an editor
 * would flag them as missing).
 */
export function configSchemaJson(): string {
  function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
    if (key === 'x-cli') return undefined;
    if (key !== 'required' || !Array.isArray(value) || this['properties'] === undefined) return value;
    const properties = this['properties'] as Record<string, { default?: unknown }>;
    const needed = value.filter((name: string) => properties[name]?.default === undefined);
    return needed.length === 0 ? undefined : needed;
  }
  return `${JSON.stringify(configSchema, replacer, 2)}\n`;
}
