import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { PERF_PROFILE_NAMES, PERF_PROFILES } from '@pd-router/mock-vllm';
import { positive } from '../cli-args.js';
import { BenchError } from '../errors.js';
import { writeReplayReport } from './replay-report.js';
import { type PolicyRun, runPolicy } from './replay-run.js';
import { type PolicyResult, summarize } from './replay-stats.js';
import { readTrace, sliceTrace } from './trace.js';

const SPEC = {
  trace: { type: 'string' },
  window: { type: 'string' },
  speedup: { type: 'string' },
  'rate-scale': { type: 'string' },
  'prefill-count': { type: 'string' },
  'decode-count': { type: 'string' },
  policies: { type: 'string' },
  'slo-ttft-ms': { type: 'string' },
  'slo-tpot-ms': { type: 'string' },
  json: { type: 'string' },
  out: { type: 'string' },
  'model-profile': { type: 'string' },
  'kv-cache-tokens': { type: 'string' },
  'sample-every-s': { type: 'string' },
  'request-timeout-s': { type: 'string' },
  'router-arg': { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

export const REPLAY_DEFAULTS = {
  speedup: 10,
  rateScale: 1,
  prefillCount: 4,
  decodeCount: 4,
  policies: 'round_robin,cache_aware,power_of_two,default',
  sloTtftMs: 2000,
  sloTpotMs: 100,
  out: 'replay-results',
  modelProfile: 'llama-3.1-8b-h100',
  sampleEveryS: 1,
  requestTimeoutS: 600,
} as const;

export const REPLAY_HELP = `pd-bench replay: replay a request trace (Mooncake FAST'25 JSONL: timestamp ms, input_length,
output_length, hash_ids of 512-token blocks) through pd-router on a simulated cluster (mock-vllm
performance model, NIXL), once per policy, each on a fresh cluster. Prompts are built from the hash
ids (shared ids = shared prefixes); output_length becomes max_tokens with ignore_eos.

Usage: pd-bench replay --trace FILE [options]

  --trace FILE           the trace (required)
  --window START_S:END_S a slice of the trace, in trace seconds (default: all)
  --speedup X            replay X times faster; the mocks' time scale follows (default ${REPLAY_DEFAULTS.speedup})
  --rate-scale Y         Y times the trace's arrival rate (default ${REPLAY_DEFAULTS.rateScale})
  --prefill-count N      prefill instances (default ${REPLAY_DEFAULTS.prefillCount})
  --decode-count M       decode instances (default ${REPLAY_DEFAULTS.decodeCount})
  --policies LIST        router policies, comma-separated; 'default' = the router's default
                         (default ${REPLAY_DEFAULTS.policies})
  --slo-ttft-ms MS       TTFT objective, trace time (default ${REPLAY_DEFAULTS.sloTtftMs})
  --slo-tpot-ms MS       time-per-output-token objective, trace time (default ${REPLAY_DEFAULTS.sloTpotMs})
  --json FILE            write {"results": {POLICY: {...}}} (times in trace ms)
  --out DIR              replay.md, ttft-cdf.svg, load-POLICY.svg and logs (default ${REPLAY_DEFAULTS.out})
  --model-profile NAME   mock-vllm performance profile (default ${REPLAY_DEFAULTS.modelProfile})
  --kv-cache-tokens N    KV cache per instance in tokens (default: the profile's)
  --sample-every-s S     load sampling period, trace seconds (default ${REPLAY_DEFAULTS.sampleEveryS})
  --request-timeout-s S  per-request budget, wall seconds (default ${REPLAY_DEFAULTS.requestTimeoutS})
  --router-arg ARG       extra pd-router argument (repeatable), e.g. --router-arg=--max-tree-size=1000000
  -h, --help             this text
`;

export interface ReplayCommand {
  readonly trace: string;
  readonly window: { readonly startS: number; readonly endS: number } | undefined;
  readonly speedup: number;
  readonly rateScale: number;
  readonly prefillCount: number;
  readonly decodeCount: number;
  readonly policies: readonly string[];
  readonly slo: { readonly ttftMs: number; readonly tpotMs: number };
  readonly json: string | undefined;
  readonly out: string;
  readonly modelProfile: string;
  readonly kvCacheTokens: number | undefined;
  readonly sampleEveryS: number;
  readonly requestTimeoutS: number;
  readonly routerArgs: readonly string[];
}

function usage(message: string): BenchError {
  return new BenchError('PD_ERR_BENCH_USAGE', message);
}

/** Parses `pd-bench replay`'s arguments; undefined for --help. */
export function parseReplayArgs(argv: readonly string[]): ReplayCommand | undefined {
  let v: ReturnType<typeof parseArgs<{ options: typeof SPEC; strict: true }>>['values'];
  try {
    v = parseArgs({ args: [...argv], options: SPEC, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw usage((error as Error).message);
  }
  if (v.help === true) return undefined;
  if (v.trace === undefined) throw usage('replay needs --trace FILE');
  let window: ReplayCommand['window'];
  if (v.window !== undefined) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v.window);
    if (m === null || Number(m[2]) <= Number(m[1]))
      throw usage(`--window expects START_S:END_S with END_S > START_S, got "${v.window}"`);
    window = { startS: Number(m[1]), endS: Number(m[2]) };
  }
  const policies = (v.policies ?? REPLAY_DEFAULTS.policies)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (policies.length === 0) throw usage('--policies needs at least one name');
  if (new Set(policies).size !== policies.length) throw usage('--policies names a policy twice');
  const kv = v['kv-cache-tokens'];
  return {
    trace: v.trace,
    window,
    speedup: positive('--speedup', v.speedup, REPLAY_DEFAULTS.speedup),
    rateScale: positive('--rate-scale', v['rate-scale'], REPLAY_DEFAULTS.rateScale),
    prefillCount: positive('--prefill-count', v['prefill-count'], REPLAY_DEFAULTS.prefillCount, true),
    decodeCount: positive('--decode-count', v['decode-count'], REPLAY_DEFAULTS.decodeCount, true),
    policies,
    slo: {
      ttftMs: positive('--slo-ttft-ms', v['slo-ttft-ms'], REPLAY_DEFAULTS.sloTtftMs),
      tpotMs: positive('--slo-tpot-ms', v['slo-tpot-ms'], REPLAY_DEFAULTS.sloTpotMs),
    },
    json: v.json,
    out: v.out ?? REPLAY_DEFAULTS.out,
    modelProfile: v['model-profile'] ?? REPLAY_DEFAULTS.modelProfile,
    kvCacheTokens: kv === undefined ? undefined : positive('--kv-cache-tokens', kv, 0, true),
    sampleEveryS: positive('--sample-every-s', v['sample-every-s'], REPLAY_DEFAULTS.sampleEveryS),
    requestTimeoutS: positive('--request-timeout-s', v['request-timeout-s'], REPLAY_DEFAULTS.requestTimeoutS),
    routerArgs: v['router-arg'] ?? [],
  };
}

export interface ReplayOutcome {
  readonly results: Record<string, PolicyResult>;
  readonly runs: readonly PolicyRun[];
  readonly markdown: string;
}

/** Runs every policy in turn on the same requests and writes the reports. */
export async function runReplay(
  c: ReplayCommand,
  argv: readonly string[],
  log: (line: string) => void,
): Promise<ReplayOutcome> {
  const profile = PERF_PROFILES[c.modelProfile];
  if (profile === undefined) throw usage(`--model-profile must be one of ${PERF_PROFILE_NAMES.join(', ')}`);
  const sliced = sliceTrace(readTrace(c.trace), { window: c.window, rateScale: c.rateScale });
  // vLLM refuses a request beyond the model's context; replaying one would only count an error.
  const trace = sliced.filter((r) => r.inputLength + r.outputLength <= profile.maxModelLen);
  if (trace.length < sliced.length)
    log(
      `replay: ${sliced.length - trace.length} requests longer than the context (${profile.maxModelLen}) left out`,
    );
  if (trace.length === 0) throw usage('the trace (or its --window) has no requests');
  const results: Record<string, PolicyResult> = {};
  const runs: PolicyRun[] = [];
  for (const policy of c.policies) {
    log(
      `replay: ${policy}: ${trace.length} requests on ${c.prefillCount}P${c.decodeCount}D at ${c.speedup}x`,
    );
    const run = await runPolicy(policy, trace, {
      speedup: c.speedup,
      prefillCount: c.prefillCount,
      decodeCount: c.decodeCount,
      modelProfile: c.modelProfile,
      kvCacheTokens: c.kvCacheTokens,
      sampleEveryS: c.sampleEveryS,
      requestTimeoutMs: c.requestTimeoutS * 1000,
      routerArgs: c.routerArgs,
      logDir: join(c.out, 'logs'),
    });
    runs.push(run);
    const r = summarize(run, c.speedup, c.slo);
    results[policy] = r;
    log(
      `replay: ${policy}: TTFT p50 ${r.ttft_ms.p50} p99 ${r.ttft_ms.p99} ms, errors ${r.errors}, hit rate ${r.prefix_hit_rate}, ${(run.wallMs / 1000).toFixed(0)} s wall`,
    );
  }
  if (c.json !== undefined) {
    mkdirSync(dirname(c.json), { recursive: true });
    writeFileSync(c.json, `${JSON.stringify({ results }, null, 2)}\n`);
  }
  const markdown = writeReplayReport(
    c.out,
    {
      trace: c.trace,
      window: c.window === undefined ? 'all' : `${c.window.startS}:${c.window.endS} s`,
      speedup: c.speedup,
      rateScale: c.rateScale,
      prefillCount: c.prefillCount,
      decodeCount: c.decodeCount,
      requests: trace.length,
      slo: c.slo,
      command: ['pd-bench', 'replay', ...argv].join(' '),
    },
    runs,
    results,
  );
  return { results, runs, markdown };
}
