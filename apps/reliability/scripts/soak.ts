/**
 * The long load run, by hand (CI runs a 10 s version in test/load.test.ts):
 *
 *   pnpm --filter @pd-router/reliability soak -- --duration-s 600 [--concurrency 256] [--streams 2000]
 *
 * Starts a mock cluster (2 prefill + 4 decode) in this process and the built pd-router CLI in its
 * own, then runs the 2,000-stream burst and the closed-loop non-streaming run for --duration-s,
 * printing the router's RSS as it goes (a leak shows as steady growth) and a summary at the end.
 * Exit status 1 when any request failed or the router logged at warn or above.
 */
import { completionBody } from '../src/harness/client.js';
import { PeakSampler } from '../src/harness/router-process.js';
import { burst, closedLoop, type LoadRunResult } from '../src/load/load-client.js';
import { openFileLimit, startLoadCluster } from '../src/load/load-cluster.js';
import { LOAD } from '../src/scenarios/load.js';

const MIB = 1_048_576;

interface SoakOptions {
  readonly durationS: number;
  readonly concurrency: number;
  readonly streams: number;
  readonly reportEveryS: number;
}

function parseArgs(argv: readonly string[]): SoakOptions {
  const values = new Map<string, number>();
  const args = argv.filter((a) => a !== '--');
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] ?? '';
    const value = Number(args[i + 1]);
    if (
      !['--duration-s', '--concurrency', '--streams', '--report-every-s'].includes(flag) ||
      !Number.isFinite(value) ||
      value < 0
    ) {
      process.stderr.write(
        `soak: bad argument ${flag} ${args[i + 1] ?? ''}\nusage: soak [--duration-s ${LOAD.soakDurationS}] [--concurrency ${LOAD.concurrency}] [--streams ${LOAD.streams}] [--report-every-s 30]\n`,
      );
      process.exit(2);
    }
    values.set(flag, value);
  }
  return {
    durationS: values.get('--duration-s') ?? LOAD.soakDurationS,
    concurrency: values.get('--concurrency') ?? LOAD.concurrency,
    streams: values.get('--streams') ?? LOAD.streams,
    reportEveryS: values.get('--report-every-s') ?? 30,
  };
}

function line(name: string, r: LoadRunResult, rssStart: number, rssPeak: number, burst: boolean): string {
  // Answers open at once only means something for the burst of streams.
  return `| ${name} | ${r.requests} | ${r.errorCount} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${r.requestsPerSecond} | ${burst ? r.peakOpen : ''} | ${Math.round(rssStart / MIB)} | ${Math.round(rssPeak / MIB)} |`;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const rows: string[] = [];
  let failed = false;
  const say = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };

  const needed = 2 * Math.max(o.streams, o.concurrency) + 1_000;
  if (openFileLimit() < needed) {
    process.stderr.write(
      `soak: ulimit -n is ${openFileLimit()}; this run needs at least ${needed} (raise it first)\n`,
    );
    return 2;
  }
  if (o.streams > 0) {
    say(
      `soak: ${o.streams} concurrent streams (${LOAD.streamTokens} tokens, ${LOAD.streamInterTokenMs} ms apart)...`,
    );
    const cluster = await startLoadCluster({
      prefill: LOAD.prefill,
      decode: LOAD.decode,
      interTokenMs: LOAD.streamInterTokenMs,
      maxConcurrency: 0,
      upstreamConnections: 1_024,
    });
    try {
      const start = cluster.router.rssBytes();
      const rss = new PeakSampler(() => cluster.router.rssBytes());
      const r = await burst({
        origin: cluster.router.url,
        count: o.streams,
        body: completionBody(true, LOAD.streamTokens),
        stream: true,
      });
      const peak = rss.stop();
      rows.push(line(`${o.streams} concurrent streams`, r, start, peak, true));
      const warnings = cluster.router.logs.filter((l) => l.level >= 40).length;
      if (r.errorCount > 0 || warnings > 0) {
        failed = true;
        say(`  errors: ${JSON.stringify(r.errors)}; router warn+ lines: ${warnings}`);
      }
    } finally {
      await cluster.close();
    }
  }

  say(`soak: ${o.concurrency} clients, closed loop, non-streaming, for ${o.durationS} s...`);
  const cluster = await startLoadCluster({
    prefill: LOAD.prefill,
    decode: LOAD.decode,
    interTokenMs: LOAD.closedLoopInterTokenMs,
    maxConcurrency: 0,
    upstreamConnections: 1_024,
  });
  try {
    const start = cluster.router.rssBytes();
    const rss = new PeakSampler(() => cluster.router.rssBytes());
    const t0 = performance.now();
    const progress = setInterval(() => {
      say(
        `  ${Math.round((performance.now() - t0) / 1_000)} s: router RSS ${Math.round(cluster.router.rssBytes() / MIB)} MiB`,
      );
    }, o.reportEveryS * 1_000);
    const r = await closedLoop({
      origin: cluster.router.url,
      concurrency: o.concurrency,
      durationMs: o.durationS * 1_000,
      body: completionBody(false, LOAD.closedLoopTokens),
      stream: false,
    }).finally(() => clearInterval(progress));
    const peak = rss.stop();
    rows.push(line(`concurrency ${o.concurrency}, ${o.durationS} s`, r, start, peak, false));
    const warnings = cluster.router.logs.filter((l) => l.level >= 40).length;
    if (r.errorCount > 0 || warnings > 0) {
      failed = true;
      say(`  errors: ${JSON.stringify(r.errors)}; router warn+ lines: ${warnings}`);
    }
  } finally {
    await cluster.close();
  }

  say('');
  say(
    '| run | requests | errors | p50 ms | p99 ms | max ms | req/s | peak open | RSS start MiB | RSS peak MiB |',
  );
  say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) say(r);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
