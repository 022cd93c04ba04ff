import { type Static, type TOptional, type TSchema, Type } from '@sinclair/typebox';

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
  /** A one-letter name (`-h`). */
  readonly alias?: `-${string}`;
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
  /** Values outside the schema's `enum` that vllm-router takes, each with why pd-router refuses it. */
  readonly refusedValues?: Readonly<Record<string, string>>;
  /** Accepted for vllm-router compatibility and otherwise ignored. */
  readonly ignored?: true;
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
/** pd_aware decode-first: prompts with at most this many uncached tokens skip the prefill leg. */
export const DEFAULT_DECODE_FIRST_TOKENS = 512;

/** setTimeout clamps larger delays to 1 ms, so no timeout may exceed this. */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_TIMER_SECS = Math.floor(MAX_TIMER_MS / 1_000);

type Keywords = Record<string, unknown>;
const CLI_KEYS = new Set('alias aliases switch secret defaultText greedy refusedValues ignored'.split(' '));
/** JSON Schema keywords of a property and its `x-cli` extras (the keys of CliAnnotation). */
type Extras = Partial<Omit<CliAnnotation, 'flag' | 'valueName' | 'group'>> & Keywords;
type Value = string | number | boolean | readonly string[] | Extras;
/** A property is optional when neither its tag (B) nor its definition (V) gives a default. */
type Property<T extends TSchema, B, V extends readonly Value[]> = B extends { default: unknown }
  ? T
  : [Exclude<V[number], Extras | readonly string[]>] extends [never]
    ? TOptional<T>
    : T;

/** The schema keywords and `x-cli` of a property, from its usage line (`--port PORT`) and keywords. */
function annotate(usage: string, help: string, keywords: Keywords) {
  const [flag, ...valueName] = usage.split(' ');
  const cli: Keywords = {
    flag,
    group: 'General',
    ...(valueName.length > 0 ? { valueName: valueName.join(' ') } : {}),
  };
  const schema: Keywords = {};
  for (const [key, value] of Object.entries(keywords)) {
    if (value !== undefined) (CLI_KEYS.has(key) ? cli : schema)[key] = value;
  }
  return { ...schema, description: help, 'x-cli': cli as unknown as CliAnnotation };
}

/**
 * A tag that writes a flag's property as its `--help` entry: `` int`--backlog N ${511} Listen
 * backlog.` `` is the flag `--backlog` with value name N, default 511 and that help text. An
 * interpolated object adds schema keywords and CLI extras (`${{ minimum: 0, secret: true }}`), an
 * interpolated list is an enum's values. With nothing interpolated the usage is the first word.
 */
function tag<T extends TSchema, const B extends Keywords = Record<never, never>>(
  build: (keywords: Keywords) => T,
  base?: B,
  suffix = '',
) {
  return <const V extends readonly Value[]>(strings: TemplateStringsArray, ...values: V) => {
    const [head = '', ...tail] = strings;
    if (tail.slice(0, -1).some((between) => between.trim() !== ''))
      throw new Error(`${head}: text between values`);
    const space = head.indexOf(' ');
    const usage = `${values.length > 0 ? head.trim() : head.slice(0, space)}${suffix}`;
    const keywords: Keywords = structuredClone(base ?? {});
    for (const value of values) {
      if (Array.isArray(value)) Object.assign(keywords, { type: 'string', enum: value });
      else if (typeof value === 'object') Object.assign(keywords, value);
      else keywords['default'] = value;
    }
    const schema = build(annotate(usage, (tail.at(-1) ?? head.slice(space)).trim(), keywords));
    return (keywords['default'] === undefined ? Type.Optional(schema) : schema) as Property<T, B, V>;
  };
}
const int = tag(Type.Integer, { minimum: 1, maximum: 1_000_000 });
const ms = tag(Type.Integer, { minimum: 1, maximum: MAX_TIMER_MS });
const port = tag(Type.Integer, { minimum: 0, maximum: 65_535 });
const num = tag(Type.Number, { minimum: 0 });
const bool = tag(Type.Boolean);
/** A bare switch, off by default. */
const sw = tag(Type.Boolean, { default: false, switch: true });
const text = tag(Type.String, { minLength: 1 });
/** A string enum as JSON Schema's `enum` (so ajv reports "must be one of"), typed as its union. */
const oneOf = <const V extends readonly Value[]>(strings: TemplateStringsArray, ...values: V) =>
  tag(Type.Unsafe<Extract<V[number], readonly string[]>[number]>)(strings, ...values);
/** A repeatable, comma-separated list of strings; a `format` applies to each. */
const strings = ({ format, ...keywords }: Keywords & { format?: string }) =>
  Type.Array(Type.String({ minLength: 1, ...(format ? { format } : {}) }), keywords);
const list = tag(strings, { default: [] });
const labels = tag(
  strings,
  { default: [], format: 'label', greedy: 'labels', defaultText: 'none' },
  ' KEY=VALUE[,KEY=VALUE...]',
);

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
const POLICY_VALUES = {
  sticky_round_robin: "a policy of vllm-router's Python launcher only, not of its router",
};
/** A worker spec string, or `{ url, bootstrapPort }` (minLength applies to strings, the rest to objects). */
const workers = tag((keywords) =>
  Type.Array(
    Type.Unsafe<string | { url: string; bootstrapPort?: number | null }>({
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
    }),
    keywords,
  ),
);

/** Stamps a help group on every property of `properties`. */
function inGroup<T extends Record<string, TSchema>>(group: OptionGroup, properties: T): T {
  for (const property of Object.values(properties)) {
    const cli = property['x-cli'] as { group: OptionGroup } | undefined;
    if (cli !== undefined) cli.group = group;
  }
  return properties;
}
/** A nested section of the file, every flag of it in one help group. */
const section = <T extends Record<string, TSchema>>(group: OptionGroup, description: string, properties: T) =>
  Type.Object(inGroup(group, properties), { default: {}, additionalProperties: false, description });

const nixlSchema = section('Workers', 'NIXL connector settings (docs/kv-connectors.md).', {
  // vLLM's toy proxy sends the decode without params (it recomputes); `fail` is opt-in.
  onMissingParams: oneOf`--nixl-on-missing-params ACTION ${['recompute', 'fail']} ${'recompute'} NIXL: when the prefill answers 2xx without usable kv_transfer_params (no key, empty or invalid, or a body that is not a JSON object), recompute (send the decode the client body without them, as vLLM's toy proxy; counted in pd_router_nixl_recomputes_total and logged) or fail (502). A null value (vLLM: nothing held, e.g. the first token was EOS) always recomputes.`,
  // vLLM's side-channel host defaults to `localhost`, useless to a decode on another machine.
  rewriteRemoteHost: bool`--nixl-rewrite-remote-host ${true} NIXL: when a prefill that is not on the router's machine answers a loopback remote_host (vLLM's side-channel host defaults to localhost), send the decode the prefill's own host instead.`,
});

const intakeSchema = section('Server', 'Limits on client connections and request bodies.', {
  maxConnections: int`--max-connections N ${0} ${{ minimum: 0, maximum: 10_000_000 }} Most client connections at once; beyond it a connection gets 503 PD_ERR_TOO_MANY_CONNECTIONS and is closed. 0: the open-files limit minus a reserve for the router's own sockets (a quarter, 64 to 4,096).`,
  // Node's (and Linux's usual somaxconn) default.
  backlog: int`--backlog N ${511} Listen backlog: connections the kernel queues before the router accepts them (capped by net.core.somaxconn).`,
  // Fastify's default: above the 60 s idle timeout of common load balancers, so they close first.
  keepAliveTimeoutMs: ms`--keep-alive-timeout-ms MS ${72_000} How long an idle kept-alive client connection stays open.`,
  // A 32 MiB body at 300 KB/s; slow senders are cut sooner by the minimum rate.
  bodyTimeoutMs: ms`--body-timeout-ms MS ${120_000} A request body must arrive within this long of its headers; then 408 and the connection is closed.`,
  // Any real client sends a JSON body far faster; a byte-a-second sender is cut after 10 s.
  bodyMinRate: int`--body-min-rate BYTES ${1_024} ${{ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }} Bytes per second a request body must keep up over each 10 s; slower gets 408 and the connection is closed. 0: no minimum.`,
  // 2^22 JSON values: four times the longest contexts of common models as a token-id prompt; a
  // 32 MiB body of one-digit numbers holds about 16.7 million. Parsing is linear whatever the count:
  // this bounds what policies that read the whole prompt (cache_aware, consistent_hash) may build.
  maxJsonElements: int`--max-json-elements N ${4_194_304} ${{ maximum: Number.MAX_SAFE_INTEGER }} Most JSON values in a request body (every number, string, literal, array and object); more is a 400 PD_ERR_JSON_TOO_MANY_ELEMENTS.`,
  // Two bodies of the default --max-payload-size canonicalized at once.
  parseBudgetBytes: int`--parse-budget-bytes BYTES ${67_108_864} ${{ maximum: Number.MAX_SAFE_INTEGER }} Bytes of large bodies (over 256 KiB) canonicalized at once; a body beyond it gets 503 PD_ERR_PARSE_BUSY with Retry-After (one body alone is always parsed).`,
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
      host: text`--host ADDR ${'127.0.0.1'} Address to listen on.`,
      // vllm-router's default port, so a drop-in replacement needs no new client configuration.
      port: port`--port PORT ${30_000} Port to listen on (0: any free port; the log line says which).`,
    }),
    ...inGroup('Workers', {
      prefill: workers`--prefill URL[:zmq://HOST:PORT] [BOOTSTRAP_PORT|none] ${{ minItems: 1 }} Prefill workers, in order (round_robin follows it); repeat the flag for more. The ZMQ address is the worker's P2P NCCL kv address for request ids (unused with --kv-connector nixl). vllm-router's trailing BOOTSTRAP_PORT or none is accepted and ignored. Optional with --vllm-discovery-address or --service-discovery.`,
      decode: workers`--decode URL[:zmq://HOST:PORT] ${{ minItems: 1 }} Decode workers, in order (round_robin follows it); repeat the flag for more. Optional with --vllm-discovery-address or --service-discovery.`,
    }),
    ...inGroup('Routing policies', {
      policy: oneOf`--policy NAME ${POLICY_NAMES} ${'round_robin'} ${{ refusedValues: POLICY_VALUES }} Policy for both pools unless overridden. Default round_robin, the reference proxy's (vllm-router's is cache_aware).`,
      decodeFirstTokens: int`--decode-first-tokens N ${DEFAULT_DECODE_FIRST_TOKENS} ${{ minimum: 0 }} pd_aware with NIXL (decode-first): a request whose prompt part not cached on its chosen decode is at most this many tokens (estimated as characters / 4) goes to that decode alone, which computes the prompt itself (no prefill leg, no KV transfer; pd_router_decode_first_total). 0: always disaggregate. P2P NCCL cannot run a decode alone (docs/routing.md).`,
      prefillPolicy: oneOf`--prefill-policy NAME ${POLICY_NAMES} ${{ defaultText: 'same as --policy', refusedValues: POLICY_VALUES }} Policy for the prefill pool (default: the general policy).`,
      decodePolicy: oneOf`--decode-policy NAME ${POLICY_NAMES} ${{ defaultText: 'same as --policy', refusedValues: POLICY_VALUES }} Policy for the decode pool (default: the general policy).`,
    }),
    // vllm-router's CLI defaults (its library defaults 0.5/32/1.1 are not what users get).
    cacheAware: section('cache_aware policy', 'Tuning of the cache_aware policy.', {
      cacheThreshold: num`--cache-threshold RATIO ${0.3} ${{ maximum: 1 }} Prefix match ratio above which a request goes to the worker holding that prefix; otherwise to the worker with the smallest tree.`,
      balanceAbsThreshold: int`--balance-abs-threshold N ${64} ${{ minimum: 0, maximum: undefined }} Absolute half of the load-imbalance test: when max - min in-flight requests exceeds it and max > min * the relative threshold, the least-loaded worker wins.`,
      balanceRelThreshold: num`--balance-rel-threshold RATIO ${1.5} Relative half of the load-imbalance test: max > min * this (see the absolute threshold).`,
      // 2^24 characters per worker tree (vllm-router: 2^26): a JS radix tree costs 2+ bytes per char.
      maxTreeSize: int`--max-tree-size CHARS ${16_777_216} ${{ maximum: 2_147_483_647 }} Characters kept per worker prefix tree; least recently used leaves are evicted at once beyond it.`,
    }),
    discovery: section('Discovery', 'vLLM P2P NCCL registration over ZMQ.', {
      allow: list`--discovery-allow CIDR[,CIDR...] ${{ format: 'cidr', defaultText: 'private and loopback ranges' }} IPv4 CIDRs that limit who may register: the sender's IP (checked at the ZeroMQ handshake, through ZAP) and the announced http_address and zmq_address hosts must all fall in them; others are refused and counted. Unset: the private and loopback ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8), with a start-up warning; 0.0.0.0/0 admits everyone.`,
      // Far above a real deployment's workers; bounds what a flood of fake registrations can cost.
      maxWorkers: int`--discovery-max-workers N ${DEFAULT_DISCOVERY_MAX_WORKERS} Most workers discovery may hold (ZMQ registration and Kubernetes together); registrations of new workers beyond it are refused and counted (reason max_workers).`,
      // Messages a second per sender: vLLM sends one every 3 s, so this is 30 times that.
      rateLimit: int`--discovery-rate-limit N ${DEFAULT_DISCOVERY_RATE_LIMIT} Registration messages a second one sender (a ZeroMQ connection) may send, in bursts of as many; beyond it they are dropped and counted (reason rate_limited). vLLM sends one every 3 s.`,
      address: text`--vllm-discovery-address HOST:PORT ${{ format: 'host-port', defaultText: 'none (off)' }} HOST:PORT of a ZMQ ROUTER where vLLM P2P NCCL instances register (their kv_connector_extra_config proxy_ip/proxy_port), as vllm-router's flag; port 0 binds any free port. Registered workers join the pools, beside any static ones.`,
      // The reference proxy's registration TTL: vLLM pings every 3 s, so one late ping is tolerated.
      ttlMs: ms`--discovery-ttl-ms MS ${5_000} A registered worker that has not pinged for this long leaves the pools (vLLM pings every 3 s).`,
    }),
    kubernetes: section('Discovery', 'Kubernetes pod discovery.', {
      enabled: sw`--service-discovery Discover workers as Kubernetes pods (ready pods matching the prefill or decode selector join, deleted or unready ones leave).`,
      selector: labels`--selector Labels (key=value) every discovered pod must carry, in both pools.`,
      prefillSelector: labels`--prefill-selector Labels (key=value) of prefill pods.`,
      decodeSelector: labels`--decode-selector Labels (key=value) of decode pods (a pod matching both selectors is a prefill worker).`,
      namespace: text`--service-discovery-namespace NAME ${{ defaultText: 'none (all namespaces)' }} Namespace whose pods are watched; unset: every namespace.`,
      // vLLM's default port (vllm-router's, 80, is rarely what a vLLM pod serves on).
      port: port`--service-discovery-port PORT ${8_000} ${{ minimum: 1 }} HTTP port of vLLM in discovered pods (a pod's pd-router.io/http-port annotation overrides it).`,
      kubeconfig: text`--kubeconfig FILE ${{ defaultText: 'none (in-cluster service account)' }} Kubeconfig file for pod discovery; unset: the in-cluster service account.`,
    }),
    health: section('Health checks', 'Active health checks and the circuit breaker.', {
      checkIntervalMs: ms`--health-check-interval-ms MS ${{ minimum: 0, defaultText: 'from --health-check-interval-secs' }} The same as --health-check-interval-secs, in ms; wins when both are given. 0: no periodic checks.`,
      checkTimeoutMs: ms`--health-check-timeout-ms MS ${{ defaultText: 'from --health-check-timeout-secs' }} The same as --health-check-timeout-secs, in ms; wins when both are given.`,
      // vllm-router's defaults.
      failureThreshold: int`--health-failure-threshold N ${3} Consecutive failed health checks that take a worker out of the pools.`,
      successThreshold: int`--health-success-threshold N ${2} Consecutive good health checks that bring an unhealthy worker back.`,
      circuitFailureThreshold: int`--circuit-failure-threshold N ${{ minimum: 0, defaultText: 'from --cb-failure-threshold' }} The same as --cb-failure-threshold (wins when both are given); 0: no circuit breaker, as --disable-circuit-breaker.`,
      circuitOpenMs: ms`--circuit-open-ms MS ${{ defaultText: 'from --cb-timeout-duration-secs' }} The same as --cb-timeout-duration-secs, in ms; wins when both are given.`,
    }),
    ...inGroup('Workers', {
      // vllm-router's default is nixl, the reference proxy's p2p-nccl: the worker specs tell which.
      kvConnector: oneOf`--kv-connector NAME ${['p2p-nccl', 'nixl', 'mooncake']} ${{ defaultText: 'p2p-nccl when a worker spec has :zmq:// or --vllm-discovery-address is set, else nixl', refusedValues: { moriio: 'pd-router has no MoRI-IO connector' } }} KV transfer contract of the workers: p2p-nccl (vLLM's P2pNcclConnector; request ids carry the workers' ZMQ addresses, so every worker spec needs :zmq://HOST:PORT) nixl (vLLM's NixlConnector; kv_transfer_params go from the prefill's answer to the decode) or mooncake (vLLM's MooncakeConnector; both legs at once with a transfer_id, the prefill's engine ids from its bootstrap server). See docs/kv-connectors.md.`,
    }),
    nixl: nixlSchema,
    ...inGroup('Server', {
      // 32 MiB: far above any text prompt; vllm-router's 512 MiB lets one client pin half a GiB of RAM.
      maxPayloadSize: int`--max-payload-size BYTES ${33_554_432} ${{ maximum: Number.MAX_SAFE_INTEGER }} Largest request body in bytes; larger ones get 413 before being buffered whole.`,
    }),
    ...inGroup('Timeouts', {
      // A prefill (max_tokens=1) of a long prompt on a busy worker can queue for a while.
      prefillTimeoutMs: ms`--prefill-timeout-ms MS ${120_000} Budget of the whole prefill leg (connect to complete answer); then 504.`,
      // Non-streaming answers send their first byte only when generation ends, so this must cover that.
      decodeTtftTimeoutMs: ms`--decode-ttft-timeout-ms MS ${300_000} Budget from sending the decode request to the first byte of its answer's body, headers or not (a stream's first event; a non-streamed body starts when generation ends); then 504.`,
      streamIdleTimeoutMs: ms`--stream-idle-timeout-ms MS ${60_000} After the decode answer's first body byte, the longest silence between two of its chunks (and the longest a client may leave relayed data unread); no cap on total length.`,
    }),
    ...inGroup('Authentication', {
      upstreamApiKey: text`--api-key KEY ${{ minLength: undefined, aliases: ['--upstream-api-key'], secret: true, defaultText: '$OPENAI_API_KEY if set, else the literal None' }} Key sent to the workers as "Authorization: Bearer KEY", as vllm-router's --api-key (default: $OPENAI_API_KEY when set, else the literal None, as the reference proxy).`,
      apiKeys: list`--client-api-key KEY[,KEY...] ${{ secret: true, defaultText: 'none (no inbound auth unless --api-key-validation-urls)' }} Keys clients must send as "Authorization: Bearer KEY" (pd-router's own flag: vllm-router's --api-key is the worker key).`,
      keyValidation: section('Authentication', "vllm-router's API key validation URLs.", {
        urls: list`--api-key-validation-urls URL... ${{ greedy: 'all', defaultText: '$API_KEY_VALIDATION_URLS (comma-separated) if set, else none' }} A client bearer token not among --client-api-key is valid when a GET to one of these URLs, carrying it, answers 200; an error or a timeout says no (fail closed).`,
        // vllm-router caches answers forever, so a revoked key stays valid until a restart.
        cacheTtlMs: ms`--api-key-validation-cache-ms MS ${60_000} How long a validation answer (yes or no) is trusted before the URLs are asked again.`,
        timeoutMs: ms`--api-key-validation-timeout-ms MS ${5_000} Budget of one validation GET; a URL that does not answer within it says no.`,
      }),
      adminApiKey: text`--admin-api-key KEY ${{ secret: true, defaultText: 'none (admin endpoints off)' }} Key required for admin endpoints (worker management); unset: admin endpoints are off.`,
    }),
    ...inGroup('Observability', {
      logLevel: oneOf`--log-level LEVEL ${['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']} ${'info'} Log level (pino); vllm-router's and Python's warning and critical are read as warn and fatal.`,
      logFormat: oneOf`--log-format FORMAT ${['json', 'text']} ${'json'} json: one JSON object a line (pino); text: one plain line a record (time, level, message, then key=value fields), for a human or grep.`,
      logDir: text`--log-dir DIR ${{ defaultText: 'none (standard output only)' }} Also append every log line to DIR/pd-router.log (the directory is created if missing).`,
      requestIdHeaders: list`--request-id-headers HEADER... ${{ greedy: 'all', defaultText: 'none' }} Client headers that carry the client's own request id, tried in order: the first present is echoed back as x-request-id and logged with the request, never sent to the workers.`,
      // vllm-router's 29000 would make every router take a second port, and collide when two share a host.
      prometheusPort: port`--prometheus-port PORT ${0} Port of a separate /metrics listener; 0: /metrics on the main port. vllm-router's default is 29000: give --prometheus-port 29000 for its layout.`,
      prometheusHost: text`--prometheus-host ADDR ${'127.0.0.1'} Address of the separate /metrics listener (used when the Prometheus port is not 0).`,
    }),
    ...inGroup('Server', {
      // Each in-flight decode stream holds one connection: let requests queue in vLLM, not in the router.
      upstreamConnections: int`--upstream-connections N ${1_024} Most connections per upstream worker (undici Pool size).`,
      // Below Kubernetes' default 30 s terminationGracePeriod, so we exit before SIGKILL.
      shutdownTimeoutMs: ms`--shutdown-timeout-ms MS ${25_000} ${{ minimum: 0 }} On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits.`,
      corsAllowedOrigins: list`--cors-allowed-origins ORIGIN... ${{ greedy: 'all', defaultText: 'none (no CORS headers)' }} Browser origins (scheme://host[:port], or *) allowed to call the API: their requests get Access-Control-Allow-Origin, and OPTIONS preflights are answered.`,
      backend: oneOf`--backend NAME ${['vllm']} ${'vllm'} ${{ aliases: ['--runtime'], refusedValues: { openai: 'meaningless in PD mode: pd-router routes to vLLM prefill/decode workers, not to an OpenAI API', trtllm: "meaningless in PD mode: pd-router speaks vLLM's disaggregated protocol only", anthropic: "meaningless in PD mode: pd-router speaks vLLM's disaggregated protocol only" } }} vllm-router's backend: vllm, the only one PD mode has.`,
    }),
    intake: intakeSchema,
    startup: section('Health checks', 'Waiting for the static workers before serving.', {
      timeoutSecs: int`--worker-startup-timeout-secs SECS ${600} ${{ minimum: 0 }} At start, how long to wait for every static worker to answer GET /health 200; /readiness answers 503 meanwhile, and the process exits 1 naming the workers still down when it runs out. 0: no wait.`,
      checkIntervalSecs: int`--worker-startup-check-interval SECS ${30} Pause between two rounds of startup health checks (the first round starts at once).`,
    }),
    healthCheck: section('Health checks', "vllm-router's health-check flags.", {
      // 10 s, not vllm-router's 60: a worker that dies while idle (no request trips its circuit) is out
      // within interval x failure threshold, 30 s instead of 3 minutes, for one GET per worker per 10 s.
      intervalSecs: int`--health-check-interval-secs SECS ${10} ${{ minimum: 0, maximum: MAX_TIMER_SECS }} Period of the active health check (GET on every worker); 0: no periodic checks (discovered workers are still checked once before they take traffic). vllm-router's default is 60: see docs/dynamic-workers.md.`,
      timeoutSecs: int`--health-check-timeout-secs SECS ${5} ${{ maximum: MAX_TIMER_SECS }} A health check not answered 2xx within this counts as failed.`,
      // vLLM's OpenAI server answers it with 200 while its engine is alive.
      endpoint: Type.String({
        pattern: '^/[^\\s]*$',
        default: '/health',
        ...annotate(
          '--health-check-endpoint PATH',
          'Path of the active health check (a path starting with /).',
          {},
        ),
      }),
    }),
    // vllm-router's circuit breaker defaults: 10 failures within 120 s open; 60 s open; 3 good probes close.
    circuitBreaker: section('Health checks', "vllm-router's circuit breaker.", {
      failureThreshold: int`--cb-failure-threshold N ${10} Consecutive failed requests (transport errors, timeouts, 5xx), all within the window, that open a worker's circuit and take it out of its pool (never the pool's last workers: panic mode).`,
      successThreshold: int`--cb-success-threshold N ${3} Successful probes (requests or health checks, one at a time) that close a half-open circuit.`,
      timeoutDurationSecs: int`--cb-timeout-duration-secs SECS ${60} ${{ maximum: MAX_TIMER_SECS }} How long an open circuit keeps its worker out before it is probed (half-open).`,
      windowDurationSecs: int`--cb-window-duration-secs SECS ${120} ${{ maximum: MAX_TIMER_SECS }} A failure older than this no longer counts toward opening a circuit.`,
      disabled: sw`--disable-circuit-breaker No circuit breaker: only the active health checks take workers out.`,
    }),
    retry: section('Retries and admission', 'Retries of a failed leg (vllm-router).', {
      maxRetries: int`--retry-max-retries N ${5} ${{ minimum: 0 }} Most retries of one request.`,
      initialBackoffMs: ms`--retry-initial-backoff-ms MS ${50} Backoff before the first retry.`,
      maxBackoffMs: ms`--retry-max-backoff-ms MS ${30_000} Longest backoff.`,
      backoffMultiplier: num`--retry-backoff-multiplier X ${1.5} ${{ minimum: 1 }} Each backoff is the previous one times this.`,
      jitterFactor: num`--retry-jitter-factor X ${0.2} ${{ maximum: 1 }} Random spread of each backoff, as a fraction of it.`,
      disabled: sw`--disable-retries Never retry.`,
    }),
    admission: section('Retries and admission', 'Admission control (vllm-router).', {
      maxConcurrentRequests: int`--max-concurrent-requests N ${32_768} Most requests in flight; more wait in the queue.`,
      queueSize: int`--queue-size N ${100} ${{ minimum: 0 }} Most requests waiting for a place; beyond it 429 at once.`,
      queueTimeoutSecs: int`--queue-timeout-secs SECS ${60} Longest wait in the queue; then 408.`,
      rateLimitTokensPerSecond: int`--rate-limit-tokens-per-second N ${{ maximum: undefined, defaultText: 'the --max-concurrent-requests value' }} Token bucket refill rate, as vllm-router's Python launcher.`,
    }),
    ...inGroup('Timeouts', {
      requestTimeoutSecs: int`--request-timeout-secs SECS ${1_800} Cap on a whole request, on top of the per-leg budgets.`,
    }),
    ...inGroup('Workers', {
      keepVllmResponseId: bool`--keep-vllm-response-id ${false} Keep vLLM's answer ids (chatcmpl-___prefill_addr_..., naming the workers' addresses) instead of rewriting them to chatcmpl-<hex> (docs/wire-contract.md).`,
      intraNodeDataParallelSize: int`--intra-node-data-parallel-size N ${1} Data-parallel ranks per worker URL: each URL becomes N workers, each leg carrying X-data-parallel-rank.`,
    }),
    tracing: section('Tracing', 'OpenTelemetry tracing (vllm-router; docs/observability.md).', {
      enabled: sw`--enable-trace Export OpenTelemetry spans: one server span per request, child spans for the routing decision and each leg; traceparent goes out on both legs.`,
      otlpTracesEndpoint: text`--otlp-traces-endpoint HOST:PORT|URL ${{ defaultText: '$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT' }} OTLP collector: HOST:PORT is OTLP/gRPC; an http(s):// URL is OTLP/HTTP, $OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or $OTEL_EXPORTER_OTLP_PROTOCOL picking http/protobuf (default) or http/json.`,
      samplingRatio: num`--otel-sampling-ratio RATIO ${1} ${{ maximum: 1 }} Share of new traces sampled; a client's traceparent decides for its own (parent-based).`,
      excludedPaths: list`--otel-excluded-paths PATH... ${{ greedy: 'all', defaultText: 'none' }} HTTP paths that get no span (exact paths, e.g. /health /metrics).`,
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

/** Flags with no config key, placed by group in `--help`. */
export const FLAG_ONLY: readonly TSchema[] = [
  ...Object.values(
    inGroup('Workers', {
      disaggregation: sw`--vllm-pd-disaggregation Accepted for vllm-router compatibility: prefill/decode disaggregation is pd-router's only mode, with or without it.`,
    }),
  ),
  ...Object.values(
    inGroup('cache_aware policy', {
      evictionInterval: int`--eviction-interval SECS ${{ minimum: undefined, maximum: undefined, aliases: ['--eviction-interval-secs'], ignored: true, defaultText: 'none (ignored)' }} Accepted for vllm-router compatibility and ignored: pd-router evicts as it inserts, so a tree never exceeds --max-tree-size.`,
    }),
  ),
  ...Object.values(
    inGroup('General', {
      config: text`--config FILE ${{ defaultText: 'none' }} JSON or YAML file of settings (keys: see config.schema.json); flags given on the command line override it.`,
      help: sw`--help ${{ alias: '-h' }} Print this help and exit.`,
      version: sw`--version ${{ alias: '-V' }} Print the version and exit.`,
    }),
  ),
];

/** A validated config object with its defaults filled in (the file shape, complete). */
export type ConfigValues = Static<typeof configSchema>;

/** The defaults of a section, for hand-built Configs without it. */
const defaults = <T extends TSchema>(schema: T) =>
  Object.freeze(
    Object.fromEntries(
      Object.entries(schema['properties'] as Record<string, TSchema>).map(([key, property]) => [
        key,
        property['default'],
      ]),
    ),
  ) as Static<T>;
/** NIXL settings of a hand-built Config without `nixl`. */
export const DEFAULT_NIXL_CONFIG = defaults(nixlSchema);
/** Connection and body limits of a hand-built Config without `intake`. */
export const DEFAULT_INTAKE_CONFIG = defaults(intakeSchema);

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
