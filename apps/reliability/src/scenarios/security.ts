import type { Scenario } from '../report/scenario.js';

/** The registration flood of issue #14 (30,000 registrations took service down at 914 MiB). */
export const DISCOVERY_FLOOD = {
  registrations: 30_000,
  senders: 30,
  /** The default --discovery-max-workers. */
  maxWorkers: 256,
  rssBudgetMb: 200,
} as const;

export const DISCOVERY_FLOOD_ID = 'security/discovery-registration-flood';

/** Inbound keys (several allowed), the admin key and the key sent to workers, in the security runs. */
export const SECURITY_KEYS = {
  api: ['sk-inbound-one', 'sk-inbound-two-longer', 'sk-3'],
  admin: 'sk-admin-key',
  upstream: 'sk-upstream-secret',
} as const;

/** The exact header names (lower case, wire order) a worker receives on either leg. */
export const UPSTREAM_HEADER_NAMES = [
  'host',
  'connection',
  'authorization',
  'x-request-id',
  'accept',
  'accept-encoding',
  'user-agent',
  'content-type',
  'content-length',
] as const;

/** Headers a client sends that must never reach a worker (hop-by-hop ones, credentials, anything). */
export const CLIENT_ONLY_HEADERS: readonly (readonly [string, string])[] = [
  ['Connection', 'keep-alive, X-Drop-Me'],
  ['Keep-Alive', 'timeout=99'],
  ['TE', 'trailers'],
  ['Upgrade', 'websocket'],
  ['Proxy-Authorization', 'Basic cHJveHk6c2VjcmV0'],
  ['Proxy-Connection', 'client-proxy-connection'],
  ['X-Drop-Me', 'named-in-connection'],
  ['Cookie', 'session=client-cookie'],
  ['Forwarded', 'for=10.9.9.9'],
  ['X-Forwarded-For', '10.9.9.9'],
  ['X-Api-Key', 'client-api-key'],
  ['X-Request-Id', '___prefill_addr_10.9.9.9:1___decode_addr_10.9.9.9:2_client-chosen'],
  ['X-Custom', 'client-custom-value'],
  ['Accept-Language', 'fr'],
];

export const SECURITY_SCENARIOS: readonly Scenario[] = [
  {
    id: 'security/api-keys-each-accepted',
    group: 'security',
    title: '`--client-api-key` with 3 keys: a completion with each',
    expect: '200 for each key',
  },
  {
    id: 'security/api-key-rejections',
    group: 'security',
    title:
      'no Authorization; a wrong key; a same-length wrong key; a prefix and an extension of a key; `bearer` in lower case; another scheme; an empty Bearer',
    expect:
      '401 `PD_ERR_UNAUTHORIZED` (OpenAI shape, `WWW-Authenticate: Bearer`) for each; nothing sent upstream',
  },
  {
    id: 'security/api-key-guards-models-and-workers',
    group: 'security',
    title: '`GET /v1/models` and `GET /workers` without a key',
    expect: '401 `PD_ERR_UNAUTHORIZED` for both',
  },
  {
    id: 'security/open-endpoints',
    group: 'security',
    title: '`/health`, `/liveness`, `/readiness`, `/metrics` without a key',
    expect: '200 for each (probes and scraping need no key)',
  },
  {
    id: 'security/metrics-name-workers',
    group: 'security',
    title: '`GET /metrics` without a key on the main port; then a router with `--prometheus-port`',
    expect:
      'the open `/metrics` labels series with worker URLs (it is for scraping: keep it internal); with `--prometheus-port` the main port answers 404 `PD_ERR_NOT_FOUND` and only the separate listener serves it',
  },
  {
    id: 'security/admin-key-admin-api',
    group: 'security',
    title: '`GET /admin/workers` with the admin key',
    expect: '200',
  },
  {
    id: 'security/inference-key-not-admin',
    group: 'security',
    title: '`GET /admin/workers` with an inference key',
    expect: '401 `PD_ERR_UNAUTHORIZED`',
  },
  {
    id: 'security/admin-key-not-inference',
    group: 'security',
    title: 'a completion with the admin key (decision: the admin key is not an inference key)',
    expect: '401 `PD_ERR_UNAUTHORIZED`; nothing sent upstream',
  },
  {
    id: 'security/admin-key-reads-workers',
    group: 'security',
    title: '`GET /workers` with the admin key (documented: it lists internal addresses, admins may read it)',
    expect: '200',
  },
  {
    id: 'security/admin-api-off-without-admin-key',
    group: 'security',
    title: '`GET /admin/workers` on a router without `--admin-api-key`',
    expect: '404 `PD_ERR_NOT_FOUND`',
  },
  {
    id: 'security/client-request-id-ignored',
    group: 'security',
    title:
      '2 prefill × 2 decode, `consistent_hash`; 8 identical requests, each with a different client `X-Request-Id` naming foreign ZMQ addresses',
    expect:
      "all 8 on the same pair (the id chooses nothing); each worker gets a fresh id naming only the configured ZMQ addresses, never the client's",
  },
  {
    id: 'security/client-request-id-ignored-nixl',
    group: 'security',
    title: '`--kv-connector nixl`; a request with a client `X-Request-Id`',
    expect: "each worker gets a fresh uuid4 (the same on both legs), never the client's",
  },
  {
    id: 'security/upstream-header-set',
    group: 'security',
    title: 'the headers each leg carries',
    expect: `exactly ${UPSTREAM_HEADER_NAMES.map((h) => `\`${h}\``).join(', ')}, in that order`,
  },
  {
    id: 'security/client-headers-not-forwarded',
    group: 'security',
    title: `a completion carrying ${CLIENT_ONLY_HEADERS.length} client headers (hop-by-hop, a header named in Connection, credentials, forwarding, custom) and the client's Authorization`,
    expect: 'none of their names or values reach either worker; upstream Authorization is the upstream key',
  },
  {
    id: 'security/error-messages-no-addresses',
    group: 'security',
    title:
      'router-made errors at log level info: prefill refused, timed out, 5xx; decode refused, timed out; stream idle and broken events; no worker (pool drained)',
    expect: 'no message names an address or port (workers are `prefill worker #N`)',
  },
  {
    id: 'security/error-messages-debug-addresses',
    group: 'security',
    title: 'the same prefill failure at log level debug',
    expect: "the message names the worker's URL",
  },
  {
    id: 'security/completion-ids-hide-zmq-addresses',
    group: 'security',
    title: 'the `id` of a successful completion (P2P NCCL: vLLM builds it from the request id)',
    expect:
      "P2P NCCL: vLLM's `cmpl-___prefill_addr_H:P___decode_addr_H:P_<hex>` reaches the client as `cmpl-<hex>`, no address; NIXL: `cmpl-<uuid4>`, no address",
  },
  {
    id: 'security/discovery-allow-refuses',
    group: 'security',
    title: '`--discovery-allow 10.0.0.0/8`; a mock registers over ZMQ announcing 127.0.0.1',
    expect: 'refused (warn log, not in `/workers`); it receives no request and never sees the upstream key',
  },
  {
    id: 'security/discovery-allow-admits',
    group: 'security',
    title: '`--discovery-allow 127.0.0.0/8`; the same registration',
    expect: 'admitted (in `/workers`); it serves requests, with the upstream key',
  },
  {
    id: 'security/upstream-key-only-to-workers',
    group: 'security',
    title:
      'completions whose Host, absolute-form target and X-Forwarded-Host name another listener; a worker added through the admin API',
    expect:
      'the other listener gets no connection; configured and admin-added workers get `Authorization: Bearer <upstream key>`',
  },
  {
    id: DISCOVERY_FLOOD_ID,
    group: 'security',
    title: `router CLI with \`--vllm-discovery-address\` (default \`--discovery-max-workers\` and \`--discovery-rate-limit\`); ${DISCOVERY_FLOOD.registrations.toLocaleString('en-US')} fake registrations of distinct workers from ${DISCOVERY_FLOOD.senders} ZeroMQ senders, as fast as they go, while a client keeps sending completions`,
    expect: `every completion answers 200; at most ${DISCOVERY_FLOOD.maxWorkers} workers are discovered and none gets traffic (none answers its health check); the dropped registrations are counted (\`rate_limited\`, \`max_workers\`); router RSS stays within ${DISCOVERY_FLOOD.rssBudgetMb} MB of where it was`,
  },
];
