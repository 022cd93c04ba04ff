import {
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_QUEUE_SIZE,
  DEFAULT_QUEUE_TIMEOUT_SECS,
} from '../admission/admission.js';
import type { IntakeConfig, NixlConfig } from './types.js';

/**
 * The one JSON Schema of pd-router's configuration (the shape of a `--config` file; CLI flags are
 * mapped onto the same keys). ajv validates with it and fills the defaults, `config.schema.json`
 * is generated from it (snapshot-tested), and `--help` / docs/configuration.md take every type,
 * default and description from it, so none of them can drift.
 */

/** Numbers with units, named once (house style): defaults documented in docs/configuration.md. */
export const DEFAULT_HOST = '127.0.0.1';
/** vllm-router's default port, so a drop-in replacement needs no new client configuration. */
export const DEFAULT_PORT = 30_000;
/** 32 MiB: far above any text prompt; vllm-router's 512 MiB lets one client pin half a GiB of RAM. */
export const DEFAULT_MAX_PAYLOAD_SIZE = 33_554_432;
/** A prefill (max_tokens=1) of a long prompt on a busy worker can queue for a while; 2 min is generous. */
export const DEFAULT_PREFILL_TIMEOUT_MS = 120_000;
/** Non-streaming answers send their first byte only when generation ends, so this must cover that. */
export const DEFAULT_DECODE_TTFT_TIMEOUT_MS = 300_000;
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;
/** Each in-flight decode stream holds one connection: let requests queue in vLLM, not in the router. */
export const DEFAULT_UPSTREAM_CONNECTIONS = 1024;
/** Below Kubernetes' default 30 s terminationGracePeriod, so we exit before SIGKILL. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;
/** vllm-router's CLI defaults for cache_aware (its library defaults 0.5/32/1.1 are not what users get). */
export const DEFAULT_CACHE_THRESHOLD = 0.3;
export const DEFAULT_BALANCE_ABS_THRESHOLD = 64;
export const DEFAULT_BALANCE_REL_THRESHOLD = 1.5;
/** 2^24 characters per worker tree (vllm-router: 2^26); a JS radix tree costs 2+ bytes per char. */
export const DEFAULT_MAX_TREE_SIZE = 16_777_216;
/** pd_aware decode-first: prompts with at most this many uncached tokens skip the prefill leg. */
export const DEFAULT_DECODE_FIRST_TOKENS = 512;
/** The reference proxy's registration TTL: vLLM pings every 3 s, so one late ping is tolerated. */
export const DEFAULT_DISCOVERY_TTL_MS = 5_000;
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
/** Far above a real deployment's workers; bounds what a flood of fake registrations can cost. */
export const DEFAULT_DISCOVERY_MAX_WORKERS = 256;
/** Messages a second per sender: vLLM sends one every 3 s, so this is 30 times that. */
export const DEFAULT_DISCOVERY_RATE_LIMIT = 10;
/** vLLM's default `--port` (vllm-router's default, 80, is rarely what a vLLM pod serves on). */
export const DEFAULT_SERVICE_DISCOVERY_PORT = 8_000;
/**
 * 10 s, not vllm-router's 60: a worker that dies while idle (no request trips its circuit) is out
 * within interval x failure threshold, 30 s instead of 3 minutes, for one GET per worker per 10 s.
 */
export const DEFAULT_HEALTH_CHECK_INTERVAL_SECS = 10;
export const DEFAULT_HEALTH_CHECK_TIMEOUT_SECS = 5;
/** vllm-router's defaults. */
export const DEFAULT_HEALTH_FAILURE_THRESHOLD = 3;
export const DEFAULT_HEALTH_SUCCESS_THRESHOLD = 2;
/** vLLM's OpenAI server answers it with 200 while its engine is alive. */
export const DEFAULT_HEALTH_CHECK_ENDPOINT = '/health';
/** vllm-router's circuit breaker defaults: 10 failures within 120 s open; 60 s open; 3 good probes close. */
export const DEFAULT_CB_FAILURE_THRESHOLD = 10;
export const DEFAULT_CB_SUCCESS_THRESHOLD = 3;
export const DEFAULT_CB_TIMEOUT_DURATION_SECS = 60;
export const DEFAULT_CB_WINDOW_DURATION_SECS = 120;
/** vLLM's toy proxy sends the decode without params (it recomputes); `fail` is opt-in. */
export const DEFAULT_NIXL_ON_MISSING_PARAMS = 'recompute';
/** vLLM's side-channel host defaults to `localhost`, useless to a decode on another machine. */
export const DEFAULT_NIXL_REWRITE_REMOTE_HOST = true;
/** NIXL settings of a hand-built Config without `nixl`. */
export const DEFAULT_NIXL_CONFIG: NixlConfig = Object.freeze({
  onMissingParams: DEFAULT_NIXL_ON_MISSING_PARAMS,
  rewriteRemoteHost: DEFAULT_NIXL_REWRITE_REMOTE_HOST,
});
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
/** setTimeout clamps larger delays to 1 ms, so no timeout may exceed this. */
export const MAX_TIMER_MS = 2_147_483_647;

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
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const KV_CONNECTORS = ['p2p-nccl', 'nixl', 'mooncake'] as const;
const NIXL_ON_MISSING_PARAMS = ['recompute', 'fail'] as const;

const workerSpec = {
  anyOf: [
    {
      type: 'string',
      minLength: 1,
      description: 'http(s)://HOST:PORT, optionally followed by :zmq://HOST:PORT (the P2P NCCL kv address).',
    },
    {
      type: 'object',
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
    },
  ],
} as const;

const timeout = (description: string, defaultMs: number, minimum = 1) =>
  ({ type: 'integer', minimum, maximum: MAX_TIMER_MS, default: defaultMs, description }) as const;

const count = (description: string, defaultValue: number, minimum = 1) =>
  ({ type: 'integer', minimum, maximum: 1_000_000, default: defaultValue, description }) as const;

const labelList = (description: string) =>
  ({ type: 'array', items: { type: 'string', minLength: 1 }, default: [], description }) as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/pd-router/pd-router/blob/main/packages/server/config.schema.json',
  title: 'pd-router configuration',
  description:
    'Configuration file of pd-router (--config FILE, JSON or YAML). Command-line flags override it.',
  type: 'object',
  properties: {
    $schema: { type: 'string', description: 'Path or URL of this schema, for editors. Ignored.' },
    host: { type: 'string', minLength: 1, default: DEFAULT_HOST, description: 'Address to listen on.' },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65_535,
      default: DEFAULT_PORT,
      description: 'Port to listen on (0: any free port; the log line says which).',
    },
    prefill: {
      type: 'array',
      minItems: 1,
      items: workerSpec,
      description:
        'Prefill workers, in order (round_robin follows it). Optional with --vllm-discovery-address or --service-discovery.',
    },
    decode: {
      type: 'array',
      minItems: 1,
      items: workerSpec,
      description:
        'Decode workers, in order (round_robin follows it). Optional with --vllm-discovery-address or --service-discovery.',
    },
    policy: {
      type: 'string',
      enum: POLICY_NAMES,
      default: 'round_robin',
      description:
        "Policy for both pools unless overridden. Default round_robin, the reference proxy's (vllm-router's is cache_aware).",
    },
    prefillPolicy: {
      type: 'string',
      enum: POLICY_NAMES,
      description: 'Policy for the prefill pool (default: the general policy).',
    },
    decodePolicy: {
      type: 'string',
      enum: POLICY_NAMES,
      description: 'Policy for the decode pool (default: the general policy).',
    },
    decodeFirstTokens: count(
      'pd_aware with NIXL (decode-first): a request whose prompt part not cached on its chosen decode is at most this many tokens (estimated as characters / 4) goes to that decode alone, which computes the prompt itself (no prefill leg, no KV transfer; pd_router_decode_first_total). 0: always disaggregate. P2P NCCL cannot run a decode alone (docs/routing.md).',
      DEFAULT_DECODE_FIRST_TOKENS,
      0,
    ),
    cacheAware: {
      type: 'object',
      default: {},
      additionalProperties: false,
      description: 'Tuning of the cache_aware policy.',
      properties: {
        cacheThreshold: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          default: DEFAULT_CACHE_THRESHOLD,
          description:
            'Prefix match ratio above which a request goes to the worker holding that prefix; otherwise to the worker with the smallest tree.',
        },
        balanceAbsThreshold: {
          type: 'integer',
          minimum: 0,
          default: DEFAULT_BALANCE_ABS_THRESHOLD,
          description:
            'Absolute half of the load-imbalance test: when max - min in-flight requests exceeds it and max > min * the relative threshold, the least-loaded worker wins.',
        },
        balanceRelThreshold: {
          type: 'number',
          minimum: 0,
          default: DEFAULT_BALANCE_REL_THRESHOLD,
          description:
            'Relative half of the load-imbalance test: max > min * this (see the absolute threshold).',
        },
        maxTreeSize: {
          type: 'integer',
          minimum: 1,
          maximum: 2_147_483_647,
          default: DEFAULT_MAX_TREE_SIZE,
          description:
            'Characters kept per worker prefix tree; least recently used leaves are evicted at once beyond it.',
        },
      },
    },
    vllmDiscoveryAddress: {
      type: 'string',
      minLength: 1,
      description:
        "HOST:PORT of a ZMQ ROUTER where vLLM P2P NCCL instances register (their kv_connector_extra_config proxy_ip/proxy_port), as vllm-router's flag; port 0 binds any free port. Registered workers join the pools, beside any static ones.",
    },
    discoveryTtlMs: timeout(
      'A registered worker that has not pinged for this long leaves the pools (vLLM pings every 3 s).',
      DEFAULT_DISCOVERY_TTL_MS,
    ),
    discoveryAllow: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        "IPv4 CIDRs that limit who may register: the sender's IP (checked at the ZeroMQ handshake, through ZAP) and the announced http_address and zmq_address hosts must all fall in them; others are refused and counted. Unset: the private and loopback ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8), with a start-up warning; 0.0.0.0/0 admits everyone.",
    },
    discoveryMaxWorkers: count(
      'Most workers discovery may hold (ZMQ registration and Kubernetes together); registrations of new workers beyond it are refused and counted (reason max_workers).',
      DEFAULT_DISCOVERY_MAX_WORKERS,
    ),
    discoveryRateLimit: count(
      'Registration messages a second one sender (a ZeroMQ connection) may send, in bursts of as many; beyond it they are dropped and counted (reason rate_limited). vLLM sends one every 3 s.',
      DEFAULT_DISCOVERY_RATE_LIMIT,
    ),
    serviceDiscovery: {
      type: 'boolean',
      default: false,
      description:
        'Discover workers as Kubernetes pods (ready pods matching the prefill or decode selector join, deleted or unready ones leave).',
    },
    selector: labelList('Labels (key=value) every discovered pod must carry, in both pools.'),
    prefillSelector: labelList('Labels (key=value) of prefill pods.'),
    decodeSelector: labelList(
      'Labels (key=value) of decode pods (a pod matching both selectors is a prefill worker).',
    ),
    serviceDiscoveryNamespace: {
      type: 'string',
      minLength: 1,
      description: 'Namespace whose pods are watched; unset: every namespace.',
    },
    serviceDiscoveryPort: {
      type: 'integer',
      minimum: 1,
      maximum: 65_535,
      default: DEFAULT_SERVICE_DISCOVERY_PORT,
      description:
        "HTTP port of vLLM in discovered pods (a pod's pd-router.io/http-port annotation overrides it).",
    },
    kubeconfig: {
      type: 'string',
      minLength: 1,
      description: 'Kubeconfig file for pod discovery; unset: the in-cluster service account.',
    },
    healthCheckIntervalSecs: {
      type: 'integer',
      minimum: 0,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: DEFAULT_HEALTH_CHECK_INTERVAL_SECS,
      description:
        "Period of the active health check (GET on every worker); 0: no periodic checks (discovered workers are still checked once before they take traffic). vllm-router's default is 60: see docs/dynamic-workers.md.",
    },
    healthCheckIntervalMs: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_TIMER_MS,
      description: 'The same as healthCheckIntervalSecs, in ms; wins when both are given.',
    },
    healthCheckTimeoutSecs: {
      type: 'integer',
      minimum: 1,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: DEFAULT_HEALTH_CHECK_TIMEOUT_SECS,
      description: 'A health check not answered 2xx within this counts as failed.',
    },
    healthCheckTimeoutMs: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description: 'The same as healthCheckTimeoutSecs, in ms; wins when both are given.',
    },
    healthCheckEndpoint: {
      type: 'string',
      pattern: '^/[^\\s]*$',
      default: DEFAULT_HEALTH_CHECK_ENDPOINT,
      description: 'Path of the active health check (a path starting with /).',
    },
    healthFailureThreshold: count(
      'Consecutive failed health checks that take a worker out of the pools.',
      DEFAULT_HEALTH_FAILURE_THRESHOLD,
    ),
    healthSuccessThreshold: count(
      'Consecutive good health checks that bring an unhealthy worker back.',
      DEFAULT_HEALTH_SUCCESS_THRESHOLD,
    ),
    cbFailureThreshold: count(
      "Consecutive failed requests (transport errors, timeouts, 5xx), all within cbWindowDurationSecs, that open a worker's circuit and take it out of its pool (never the pool's last workers: panic mode).",
      DEFAULT_CB_FAILURE_THRESHOLD,
    ),
    cbSuccessThreshold: count(
      'Successful probes (requests or health checks, one at a time) that close a half-open circuit.',
      DEFAULT_CB_SUCCESS_THRESHOLD,
    ),
    cbTimeoutDurationSecs: {
      type: 'integer',
      minimum: 1,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: DEFAULT_CB_TIMEOUT_DURATION_SECS,
      description: 'How long an open circuit keeps its worker out before it is probed (half-open).',
    },
    cbWindowDurationSecs: {
      type: 'integer',
      minimum: 1,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: DEFAULT_CB_WINDOW_DURATION_SECS,
      description: 'A failure older than this no longer counts toward opening a circuit.',
    },
    disableCircuitBreaker: {
      type: 'boolean',
      default: false,
      description: 'No circuit breaker: only the active health checks take workers out.',
    },
    circuitFailureThreshold: {
      type: 'integer',
      minimum: 0,
      maximum: 1_000_000,
      description:
        'The same as cbFailureThreshold (wins when both are given); 0: no circuit breaker, as disableCircuitBreaker.',
    },
    circuitOpenMs: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_TIMER_MS,
      description: 'The same as cbTimeoutDurationSecs, in ms; wins when both are given.',
    },
    kvConnector: {
      type: 'string',
      enum: KV_CONNECTORS,
      default: 'p2p-nccl',
      description:
        "KV transfer contract of the workers: p2p-nccl (vLLM's P2pNcclConnector; request ids carry ZMQ addresses), nixl (vLLM's NixlConnector; kv_transfer_params go from the prefill's answer to the decode) or mooncake (vLLM's MooncakeConnector; both legs at once with a transfer_id, the prefill's engine ids from its bootstrap server). vllm-router defaults to nixl; pd-router keeps p2p-nccl, the reference proxy's. See docs/kv-connectors.md.",
    },
    nixlOnMissingParams: {
      type: 'string',
      enum: NIXL_ON_MISSING_PARAMS,
      default: DEFAULT_NIXL_ON_MISSING_PARAMS,
      description:
        "NIXL: when the prefill answers 2xx without usable kv_transfer_params (no key, empty or invalid, or a body that is not a JSON object), recompute (send the decode the client body without them, as vLLM's toy proxy; counted in pd_router_nixl_recomputes_total and logged) or fail (502). A null value (vLLM: nothing held, e.g. the first token was EOS) always recomputes.",
    },
    nixlRewriteRemoteHost: {
      type: 'boolean',
      default: DEFAULT_NIXL_REWRITE_REMOTE_HOST,
      description:
        "NIXL: when a prefill that is not on the router's machine answers a loopback remote_host (vLLM's side-channel host defaults to localhost), send the decode the prefill's own host instead.",
    },
    keepVllmResponseId: {
      type: 'boolean',
      default: false,
      description:
        "Relay vLLM's answer ids as vLLM wrote them. By default, under P2P NCCL, the id vLLM builds from the request id (chatcmpl-___prefill_addr_H:P___decode_addr_H:P_<hex>) reaches clients as chatcmpl-<hex>, keeping internal addresses inside; no other byte changes. See docs/wire-contract.md.",
    },
    maxPayloadSize: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: DEFAULT_MAX_PAYLOAD_SIZE,
      description: 'Largest request body in bytes; larger ones get 413 before being buffered whole.',
    },
    maxJsonElements: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: DEFAULT_MAX_JSON_ELEMENTS,
      description:
        'Most JSON values in a request body (every number, string, literal, array and object); more is a 400 PD_ERR_JSON_TOO_MANY_ELEMENTS.',
    },
    parseBudgetBytes: {
      type: 'integer',
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      default: DEFAULT_PARSE_BUDGET_BYTES,
      description:
        'Bytes of large bodies (over 256 KiB) canonicalized at once; a body beyond it gets 503 PD_ERR_PARSE_BUSY with Retry-After (one body alone is always parsed).',
    },
    maxConnections: {
      type: 'integer',
      minimum: 0,
      maximum: 10_000_000,
      default: 0,
      description:
        "Most client connections at once; beyond it a connection gets 503 PD_ERR_TOO_MANY_CONNECTIONS and is closed. 0: the open-files limit minus a reserve for the router's own sockets (a quarter, 64 to 4,096).",
    },
    backlog: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: DEFAULT_BACKLOG,
      description:
        'Listen backlog: connections the kernel queues before the router accepts them (capped by net.core.somaxconn).',
    },
    keepAliveTimeoutMs: timeout(
      'How long an idle kept-alive client connection stays open.',
      DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    ),
    bodyTimeoutMs: timeout(
      'A request body must arrive within this long of its headers; then 408 and the connection is closed.',
      DEFAULT_BODY_TIMEOUT_MS,
    ),
    bodyMinRate: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      default: DEFAULT_BODY_MIN_RATE,
      description:
        'Bytes per second a request body must keep up over each 10 s; slower gets 408 and the connection is closed. 0: no minimum.',
    },
    prefillTimeoutMs: timeout(
      'Budget of the whole prefill leg (connect to complete answer); then 504.',
      DEFAULT_PREFILL_TIMEOUT_MS,
    ),
    decodeTtftTimeoutMs: timeout(
      "Budget from sending the decode request to the first byte of its answer's body, headers or not (a stream's first event; a non-streamed body starts when generation ends); then 504.",
      DEFAULT_DECODE_TTFT_TIMEOUT_MS,
    ),
    streamIdleTimeoutMs: timeout(
      "After the decode answer's first body byte, the longest silence between two of its chunks (and the longest a client may leave relayed data unread); no cap on total length.",
      DEFAULT_STREAM_IDLE_TIMEOUT_MS,
    ),
    upstreamApiKey: {
      type: 'string',
      description:
        'Key sent upstream as "Authorization: Bearer KEY" (default: $OPENAI_API_KEY when set, else the literal None, as the reference proxy).',
    },
    apiKeys: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description:
        'Keys clients must send as "Authorization: Bearer KEY"; none: no inbound auth. Unlike vllm-router, whose --api-key is sent to workers (that is --upstream-api-key / upstreamApiKey here).',
    },
    adminApiKey: {
      type: 'string',
      minLength: 1,
      description: 'Key required for admin endpoints (worker management); unset: admin endpoints are off.',
    },
    logLevel: {
      type: 'string',
      enum: LOG_LEVELS,
      default: 'info',
      description: 'Log level (pino).',
    },
    prometheusPort: {
      type: 'integer',
      minimum: 0,
      maximum: 65_535,
      default: 0,
      description: 'Port of a separate /metrics listener; 0: /metrics on the main port (vllm-router: 29000).',
    },
    prometheusHost: {
      type: 'string',
      minLength: 1,
      default: DEFAULT_HOST,
      description: 'Address of the separate /metrics listener (used when the Prometheus port is not 0).',
    },
    intraNodeDataParallelSize: count(
      "vLLM data-parallel ranks behind each worker URL (vllm-router's DP-aware routing). Above 1, every --prefill and --decode URL becomes that many workers, ranks 0..N-1: the policies choose among ranks, and each leg carries X-data-parallel-rank. Workers added at run time (discovery, admin API) stay one worker each.",
      1,
    ),
    retryMaxRetries: count(
      "Attempts a request may make in all, the first included (vllm-router's meaning; 1: no retry). A leg that failed before any byte reached the client (refused or reset before an answer, 429/502/503/504 from a worker, a leg budget spent before the answer's headers) is retried on a new pair, other workers first. See docs/retries.md.",
      5,
      0,
    ),
    retryInitialBackoffMs: timeout(
      'Wait before the first retry; each later one is longer by --retry-backoff-multiplier.',
      50,
      0,
    ),
    retryMaxBackoffMs: timeout('Longest wait between two attempts.', 30_000, 0),
    retryBackoffMultiplier: {
      type: 'number',
      minimum: 1,
      maximum: 100,
      default: 1.5,
      description:
        'Each retry waits this many times longer than the one before (up to --retry-max-backoff-ms).',
    },
    retryJitterFactor: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description:
        'Each wait is multiplied by a random factor within 1 ± this, so failed requests do not come back together.',
    },
    disableRetries: {
      type: 'boolean',
      default: false,
      description: 'No retries (the same as --retry-max-retries 1).',
    },
    requestTimeoutSecs: {
      type: 'integer',
      minimum: 1,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: 1_800,
      description:
        "Cap on a whole request, retries and streaming included, on top of the per-leg budgets (vllm-router's default): before the first byte the client gets 504 PD_ERR_REQUEST_TIMEOUT; a stream is ended with that error event.",
    },
    maxConcurrentRequests: {
      type: 'integer',
      minimum: -1,
      maximum: 100_000_000,
      default: DEFAULT_MAX_CONCURRENT_REQUESTS,
      description:
        "Most proxied requests in flight at once (vllm-router's default); beyond it requests wait in the admission queue. 0 or -1: no cap. See docs/admission.md.",
    },
    queueSize: count(
      'Most requests waiting for a place; a request beyond it gets 429 PD_ERR_QUEUE_FULL at once, with Retry-After. 0: no queue.',
      DEFAULT_QUEUE_SIZE,
      0,
    ),
    queueTimeoutSecs: {
      type: 'integer',
      minimum: 1,
      maximum: Math.floor(MAX_TIMER_MS / 1_000),
      default: DEFAULT_QUEUE_TIMEOUT_SECS,
      description: 'Longest wait in the admission queue; then 408 PD_ERR_QUEUE_TIMEOUT, with Retry-After.',
    },
    rateLimitTokensPerSecond: {
      type: 'integer',
      minimum: 1,
      maximum: 100_000_000,
      description:
        "Most admissions per second (a token bucket holding --max-concurrent-requests tokens, as vllm-router's launcher); unset: --max-concurrent-requests per second (none without a cap).",
    },
    upstreamConnections: {
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: DEFAULT_UPSTREAM_CONNECTIONS,
      description: 'Most connections per upstream worker (undici Pool size).',
    },
    shutdownTimeoutMs: timeout(
      'On SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits.',
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
      0,
    ),
  },
  // Static workers are required unless a discovery source can bring them.
  // (ajv's strict mode wants `type` and `properties` beside every `required`.)
  if: {
    type: 'object',
    not: {
      anyOf: [
        { type: 'object', properties: { vllmDiscoveryAddress: true }, required: ['vllmDiscoveryAddress'] },
        { type: 'object', properties: { serviceDiscovery: { const: true } }, required: ['serviceDiscovery'] },
      ],
    },
  },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword; the schema is never awaited.
  then: { type: 'object', properties: { prefill: true, decode: true }, required: ['prefill', 'decode'] },
  additionalProperties: false,
} as const;

export type ConfigSchema = typeof configSchema;
/** Names of the top-level keys of a config file. */
export type ConfigFileKey = keyof ConfigSchema['properties'];

/** The schema as `config.schema.json` publishes it (stable key order, 2-space indent, newline). */
export function configSchemaJson(): string {
  return `${JSON.stringify(configSchema, null, 2)}\n`;
}
