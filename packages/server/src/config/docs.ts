import { describeOption } from './describe-option.js';
import { OPTION_GROUPS, OPTIONS } from './options.js';

/**
 * docs/configuration.md, generated from the option table and the schema like `--help`.
 * `test/config-generated-files.test.ts` fails when the file differs; `pnpm --filter
 * @pd-router/server gen:docs` rewrites it.
 */
export function configurationMarkdown(): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from packages/server/src/config (options.ts, schema.ts) by',
    '     `pnpm --filter @pd-router/server gen:docs`. Do not edit by hand: a test fails on drift. -->',
    '',
    'pd-router takes its settings from, in increasing priority: built-in defaults, a `--config FILE`',
    '(JSON, or YAML for any other extension), then command-line flags. A flag given on the command line',
    "replaces the file's value; for the worker lists, `--prefill`/`--decode` replace the whole list.",
    'Everything is validated once at startup against one JSON Schema,',
    '[`packages/server/config.schema.json`](../packages/server/config.schema.json) (published with the',
    "package and exported as `@pd-router/server/config.schema.json`: point a file's `$schema` at it for",
    'editor completion, or validate a settings file with it in your own tooling). Every problem is',
    'reported at once as `path: message`, and the process exits with status 2.',
    '',
    'Flags accept `--flag VALUE` and `--flag=VALUE`. Repeatable flags may be given several times.',
    'Giving any other flag twice is an error. Unknown flags and bad values exit with status 2.',
    '',
    '```yaml',
    '# pd-router.yaml',
    '$schema: ./node_modules/@pd-router/server/config.schema.json',
    'prefill:',
    '  - http://10.0.0.1:8100:zmq://10.0.0.1:14579',
    'decode:',
    '  - http://10.0.0.2:8200:zmq://10.0.0.2:14580',
    '  - { url: "http://10.0.0.3:8200:zmq://10.0.0.3:14580" }',
    'policy: cache_aware',
    'cacheAware:',
    '  cacheThreshold: 0.5',
    '```',
    '',
    '## Options',
  ];
  for (const group of OPTION_GROUPS) {
    out.push(
      '',
      `### ${group}`,
      '',
      '| Flag | Config key | Type | Default | Description |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const option of OPTIONS.filter((o) => o.group === group)) {
      const doc = describeOption(option);
      const key = doc.key === undefined ? '(flag only)' : `\`${doc.key}\``;
      out.push(
        `| \`${cell(doc.usage)}\` | ${key} | ${cell(doc.type)} | ${cell(doc.defaultText)} | ${cell(doc.description)} |`,
      );
    }
  }
  out.push(
    '',
    '## Worker specs',
    '',
    "`http(s)://HOST:PORT`, optionally followed by `:zmq://HOST:PORT`: the worker's P2P NCCL ZMQ (`kv_port`)",
    "address, which goes into the request id as vLLM's reference proxy puts it there. Without it the HTTP",
    'host and port are used, and pd-router warns at startup (with `--kv-connector p2p-nccl`). A',
    'worker may not be listed twice in one pool. In a config file a worker is such a string or an',
    "object `{ url, bootstrapPort }`. vllm-router's `--prefill URL BOOTSTRAP_PORT` and",
    '`--prefill URL none` are accepted; the bootstrap port is used by Mooncake only (8998 when absent).',
    '',
    '## Choices that differ from vllm-router',
    '',
    '| Setting | pd-router | vllm-router | Why |',
    '| --- | --- | --- | --- |',
    "| `--policy` | `round_robin` | `cache_aware` | vLLM's reference proxy is round robin; pd-router reproduces its pairing exactly by default. |",
    '| `--port` | 30000 | 30000 | Same, so clients need no change. |',
    '| `--max-payload-size` | 32 MiB | 512 MiB | Bodies are buffered to be canonicalized; 512 MiB per request lets a few clients exhaust memory. |',
    '| `--prometheus-port` | 0 (`/metrics` on the main port) | 29000 | One port to expose by default; set it for a separate listener. |',
    '| `--kv-connector` | `p2p-nccl` | `nixl` | The reference proxy pd-router replaces is the P2P NCCL one. |',
    '| `--api-key` | inbound: keys clients must send | the key sent to workers | Use `--upstream-api-key` for the worker key; pd-router warns when `--api-key` is given without it. |',
    "| `--cache-threshold` etc. | 0.3 / 64 / 1.5 | 0.3 / 64 / 1.5 (CLI defaults) | Same as vllm-router's command line (its library defaults, 0.5 / 32 / 1.1, are not what users get). |",
    '| `--max-tree-size` | 2^24 chars per worker | 2^26 | Bounded at once on insert (no eviction interval), in a JS heap. |',
    '| `--eviction-interval` | accepted, ignored | 120 s | Eviction happens as the tree grows, so the bound always holds. |',
    "| `--vllm-pd-disaggregation` | accepted, optional | required for PD mode | PD is pd-router's only mode. |",
    '| `cache_aware` low-match choice | smallest tree (ties: fewer in-flight) | docs: smallest tree; code: least loaded | As documented by vllm-router and SGLang. |',
    "| `--service-discovery-port` | 8000 | 80 | vLLM's own default port. |",
    '| `--health-check-interval-ms` | 10 s | 60 s (`--health-check-interval-secs`) | A dead worker leaves within about 30 s even without traffic; passive checks react at once. |',
    '| `--circuit-failure-threshold` | 5 consecutive failures | 10 per window (`--cb-failure-threshold`) | Consecutive failures: a busy healthy worker does not trip it. |',
    '| `--circuit-open-ms` | 10 s, then one probe | 60 s, then 3 successes | One half-open probe costs at most one request. |',
    '| Kubernetes: unready pods | leave the pools | stay until deleted | An unready pod is not serving. |',
    '',
    'Workers can also come and go at runtime: vLLM P2P NCCL registration over ZMQ',
    '(`--vllm-discovery-address`), Kubernetes pods (`--service-discovery`), and the admin API',
    '(`--admin-api-key`). See [dynamic-workers.md](dynamic-workers.md).',
    '',
    'Flags of vllm-router that pd-router does not support (`--worker-urls`, the `--cb-*` and',
    '`--health-check-*-secs` spellings) are rejected with the reason and what to use instead.',
    '',
    'Errors: see [errors.md](errors.md) (`PD_ERR_CONFIG_INVALID`).',
  );
  return `${out.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}
