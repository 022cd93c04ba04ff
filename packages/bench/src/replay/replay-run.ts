import { join } from 'node:path';
import { Agent, request } from 'undici';
import { serverCliPath } from '../cli-args.js';
import { startMockCluster, type WorkerEndpoint } from '../cluster/mock-cluster.js';
import { startProcessTarget } from '../targets/process-target.js';
import { type RequestOutcome, replayRequests } from './replay-client.js';
import type { TraceRequest } from './trace.js';

export interface ReplayClusterOptions {
  readonly speedup: number;
  readonly prefillCount: number;
  readonly decodeCount: number;
  readonly modelProfile: string;
  /** KV cache per instance in tokens; undefined = the profile's. */
  readonly kvCacheTokens: number | undefined;
  /** Load samples, in trace seconds between two. */
  readonly sampleEveryS: number;
  readonly requestTimeoutMs: number;
  /** Extra router flags (after the policy), e.g. a threshold. */
  readonly routerArgs: readonly string[];
  /** Directory for the router's and the mocks' logs. */
  readonly logDir: string;
}

/** A worker's prefix-cache counters and load over time (running + waiting, one value per sample). */
export interface WorkerTrace {
  readonly url: string;
  readonly load: number[];
  prefixQueries: number;
  prefixHits: number;
}

export interface PolicyRun {
  readonly policy: string;
  readonly outcomes: readonly RequestOutcome[];
  /** Trace seconds of each load sample. */
  readonly sampleTimesS: readonly number[];
  readonly prefills: readonly WorkerTrace[];
  readonly decodes: readonly WorkerTrace[];
  readonly wallMs: number;
}

const MODEL = 'mock-model';

/**
 * Replays the requests once for one policy, on a fresh mock cluster (NIXL, the performance model at
 * `speedup`) behind a fresh pd-router, sampling every worker's load from its /metrics.
 * `policy` 'default' starts the router without --policy.
 */
export async function runPolicy(
  policy: string,
  trace: readonly TraceRequest[],
  o: ReplayClusterOptions,
  onProgress?: (finished: number) => void,
): Promise<PolicyRun> {
  const started = performance.now();
  const safe = policy.replace(/[^a-z0-9_-]/gi, '_');
  const cluster = await startMockCluster({
    preset: 'instant',
    kvConnector: 'nixl',
    prefills: o.prefillCount,
    decodes: o.decodeCount,
    perf: {
      modelProfile: o.modelProfile,
      timeScale: o.speedup,
      ...(o.kvCacheTokens === undefined ? {} : { kvCacheTokens: o.kvCacheTokens }),
    },
    logPath: join(o.logDir, `mocks-${safe}.log`),
  });
  try {
    const workerArgs = (flag: string, list: readonly WorkerEndpoint[]): string[] =>
      list.flatMap((w) => [flag, w.url]);
    const long = String(Math.max(o.requestTimeoutMs, 1));
    const router = await startProcessTarget({
      template: {
        name: `pd-router (${policy})`,
        env: {},
        argv: [
          process.execPath,
          serverCliPath(),
          '--vllm-pd-disaggregation',
          '--kv-connector',
          'nixl',
          ...(policy === 'default' ? [] : ['--policy', policy]),
          ...workerArgs('--prefill', cluster.prefills),
          ...workerArgs('--decode', cluster.decodes),
          // Queues in a saturated cluster are the point of the replay: no leg may time out first.
          '--prefill-timeout-ms',
          long,
          '--decode-ttft-timeout-ms',
          long,
          '--stream-idle-timeout-ms',
          long,
          // A starved machine must not take mocks out of the pools: the replay compares policies.
          '--health-check-timeout-ms',
          '30000',
          '--health-failure-threshold',
          '1000000',
          '--circuit-failure-threshold',
          '0',
          ...o.routerArgs,
          '--host',
          '{host}',
          '--port',
          '{port}',
        ],
      },
      cluster,
      logPath: join(o.logDir, `router-${safe}.log`),
    });
    const scraper = new Agent({ keepAliveTimeout: 10_000 });
    const prefills: WorkerTrace[] = cluster.prefills.map((w) => ({
      url: w.url,
      load: [],
      prefixQueries: 0,
      prefixHits: 0,
    }));
    const decodes: WorkerTrace[] = cluster.decodes.map((w) => ({
      url: w.url,
      load: [],
      prefixQueries: 0,
      prefixHits: 0,
    }));
    const all = [...prefills, ...decodes];
    const sampleTimesS: number[] = [];
    await warmUp(router.origin, 4 * (o.prefillCount + o.decodeCount), o.requestTimeoutMs);
    // The counters after the warm-up are the replay's zero.
    const before = await Promise.all(all.map((w) => scrape(scraper, w.url)));
    const replayStart = performance.now();
    let sampling = true;
    const sampler = (async () => {
      const everyMs = (o.sampleEveryS * 1000) / o.speedup;
      for (let k = 0; sampling && k < 1_000_000; k++) {
        const due = replayStart + k * everyMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (!sampling) break;
        const texts = await Promise.all(all.map((w) => scrape(scraper, w.url)));
        sampleTimesS.push(((performance.now() - replayStart) * o.speedup) / 1000);
        texts.forEach((text, i) => {
          const w = all[i] as WorkerTrace;
          w.load.push(sample(text, 'vllm:num_requests_running') + sample(text, 'vllm:num_requests_waiting'));
        });
      }
    })();
    try {
      const outcomes = await replayRequests(
        trace,
        { origin: router.origin, model: MODEL, speedup: o.speedup, requestTimeoutMs: o.requestTimeoutMs },
        onProgress,
      );
      sampling = false;
      await sampler;
      const texts = await Promise.all(all.map((w) => scrape(scraper, w.url)));
      texts.forEach((text, i) => {
        const w = all[i] as WorkerTrace;
        const zero = before[i] as string;
        w.prefixQueries = sample(text, QUERIES) - sample(zero, QUERIES);
        w.prefixHits = sample(text, HITS) - sample(zero, HITS);
      });
      return { policy, outcomes, sampleTimesS, prefills, decodes, wallMs: performance.now() - started };
    } finally {
      sampling = false;
      await scraper.close();
      await router.stop();
    }
  } finally {
    await cluster.stop();
  }
}

const QUERIES = 'vllm:prefix_cache_queries_total';
const HITS = 'vllm:prefix_cache_hits_total';

/**
 * Short requests through the router before the clock starts, so that neither the router's nor the
 * mocks' first (unoptimized) seconds land on the trace's first requests. Their prompts share no
 * prefix with any trace prompt (trace blocks start with h, p or u).
 */
async function warmUp(origin: string, requests: number, timeoutMs: number): Promise<void> {
  const agent = new Agent({ keepAliveTimeout: 1_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: requests }, async (_, i) => {
          const prompt = `warm${round}_${i}${' w'.repeat(255)}`;
          const res = await request(`${origin}/v1/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: MODEL, prompt, max_tokens: 4, ignore_eos: true, stream: true }),
            dispatcher: agent,
          });
          await res.body.dump();
        }),
      );
    }
  } finally {
    await agent.close();
  }
}

async function scrape(agent: Agent, url: string): Promise<string> {
  try {
    const res = await request(`${url}/metrics`, {
      dispatcher: agent,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return await res.body.text();
  } catch {
    return '';
  }
}

/** One sample of a Prometheus series (the first line naming it), 0 when absent. */
export function sample(text: string, name: string): number {
  const at = text.indexOf(`\n${name}{`);
  if (at === -1) return 0;
  const end = text.indexOf('\n', at + 1);
  const line = text.slice(at + 1, end === -1 ? undefined : end);
  const value = Number(line.slice(line.lastIndexOf(' ') + 1));
  return Number.isFinite(value) ? value : 0;
}
