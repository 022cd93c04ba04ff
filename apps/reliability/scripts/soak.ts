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
import { openFileLimit } from '../src/load/load-cluster.js';
import { closedLoopRun, type RouterLoadRun, streamBurstRun } from '../src/load/load-runs.js';
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

function line(name: string, run: RouterLoadRun, burst: boolean): string {
  const r = run.result;
  // Answers open at once only means something for the burst of streams.
  return `| ${name} | ${r.requests} | ${r.errorCount} | ${r.latency.p50} | ${r.latency.p99} | ${r.latency.max} | ${r.requestsPerSecond} | ${burst ? r.peakOpen : ''} | ${Math.round(run.rssStartBytes / MIB)} | ${Math.round(run.rssPeakBytes / MIB)} |`;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const rows: string[] = [];
  let failed = false;
  const say = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };
  /** Prints what went wrong in a run; true when something did. */
  const report = (run: RouterLoadRun): boolean => {
    if (run.result.errorCount === 0 && run.warnings.length === 0) return false;
    say(`  errors: ${JSON.stringify(run.result.errors)}; router warn+ lines: ${run.warnings.length}`);
    return true;
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
    const run = await streamBurstRun(o.streams);
    rows.push(line(`${o.streams} concurrent streams`, run, true));
    failed = report(run) || failed;
  }

  say(`soak: ${o.concurrency} clients, closed loop, non-streaming, for ${o.durationS} s...`);
  const run = await closedLoopRun(o.concurrency, o.durationS * 1_000, {
    everyMs: o.reportEveryS * 1_000,
    onTick: (elapsedMs, rssBytes) =>
      say(`  ${Math.round(elapsedMs / 1_000)} s: router RSS ${Math.round(rssBytes / MIB)} MiB`),
  });
  rows.push(line(`concurrency ${o.concurrency}, ${o.durationS} s`, run, false));
  failed = report(run) || failed;

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
