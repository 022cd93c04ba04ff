import { completionBody } from '../harness/client.js';
import { type JsonLogLine, PeakSampler } from '../harness/router-process.js';
import { LOAD } from '../scenarios/load.js';
import { burst, closedLoop, type LoadRunResult } from './load-client.js';
import { type LoadCluster, startLoadCluster } from './load-cluster.js';

/** One load run through the router CLI: what the clients saw, and the router's memory and logs. */
export interface RouterLoadRun {
  readonly result: LoadRunResult;
  readonly rssStartBytes: number;
  readonly rssPeakBytes: number;
  /** The router's log lines at warn or above during the run. */
  readonly warnings: readonly JsonLogLine[];
}

/** Starts the load cluster with the mocks pacing tokens `interTokenMs` apart, runs `load`, stops it. */
async function measured(
  interTokenMs: number,
  load: (cluster: LoadCluster) => Promise<LoadRunResult>,
): Promise<RouterLoadRun> {
  const cluster = await startLoadCluster({
    prefill: LOAD.prefill,
    decode: LOAD.decode,
    interTokenMs,
    maxConcurrency: 0,
    upstreamConnections: 1_024,
  });
  try {
    const rssStartBytes = cluster.router.rssBytes();
    const rss = new PeakSampler(() => cluster.router.rssBytes());
    const result = await load(cluster);
    const rssPeakBytes = rss.stop();
    const warnings = cluster.router.logs.filter((l) => l.level >= 40);
    return { result, rssStartBytes, rssPeakBytes, warnings };
  } finally {
    await cluster.close();
  }
}

/** `count` streams opened at once (the 2,000 concurrent streams). */
export function streamBurstRun(count: number): Promise<RouterLoadRun> {
  return measured(LOAD.streamInterTokenMs, (cluster) =>
    burst({
      origin: cluster.router.url,
      count,
      body: completionBody(true, LOAD.streamTokens),
      stream: true,
    }),
  );
}

/**
 * `concurrency` clients in a closed loop, non-streaming, for `durationMs`; `onTick` is called every
 * `tickMs` with the router's RSS (the soak prints it, so a leak shows as steady growth).
 */
export function closedLoopRun(
  concurrency: number,
  durationMs: number,
  tick?: { readonly everyMs: number; readonly onTick: (elapsedMs: number, rssBytes: number) => void },
): Promise<RouterLoadRun> {
  return measured(LOAD.closedLoopInterTokenMs, async (cluster) => {
    const t0 = performance.now();
    const timer =
      tick === undefined
        ? undefined
        : setInterval(() => tick.onTick(performance.now() - t0, cluster.router.rssBytes()), tick.everyMs);
    try {
      return await closedLoop({
        origin: cluster.router.url,
        concurrency,
        durationMs,
        body: completionBody(false, LOAD.closedLoopTokens),
        stream: false,
      });
    } finally {
      clearInterval(timer);
    }
  });
}
