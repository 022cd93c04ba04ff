import { setTimeout as sleep } from 'node:timers/promises';
import { renderBanner } from './banner.js';
import { ChildGroup } from './child-group.js';
import { type DevCluster, startDevCluster } from './dev-cluster.js';
import { DevError } from './errors.js';
import { formatLogLine } from './log-line.js';
import { type DevOptions, HELP_TEXT, parseDevArgs } from './options.js';
import { watchParent } from './parent-watch.js';

/**
 * A terminal's Ctrl-C reaches the children (same process group) as well as us, and one of them may
 * exit before our own SIGINT handler has run: wait this long before calling an exit "unexpected".
 */
const SIGNAL_RACE_MS = 300;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/**
 * One Ctrl-C under `pnpm dev` can arrive twice (from the terminal and forwarded by pnpm), so only a
 * signal this long after the first one means "hurry up" (SIGKILL everything now).
 */
const REPEAT_SIGNAL_MIN_MS = 1_000;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function complain(line: string): void {
  process.stderr.write(`pnpm dev: ${line}\n`);
}

function printReady(cluster: DevCluster, o: DevOptions): void {
  const processes = [
    { name: 'pd-router', url: cluster.routerUrl, pid: cluster.router.pid },
    ...cluster.mocks.map((m) => ({
      name: m.plan.name,
      url: m.url,
      kvAddress: m.kvAddress,
      pid: m.child.pid,
    })),
  ];
  process.stdout.write(
    renderBanner({
      routerUrl: cluster.routerUrl,
      model: cluster.model,
      policy: o.policy,
      preset: o.preset,
      prefillCount: o.prefillCount,
      decodeCount: o.decodeCount,
      processes,
    }),
  );
  for (const child of [cluster.router, ...cluster.mocks.map((m) => m.child)]) {
    child.forward((line) => say(formatLogLine(child.name, line)));
  }
}

/** Runs the stack until a stop signal (exit 0) or a failure (exit 1); returns the exit code. */
async function run(o: DevOptions): Promise<number> {
  const group = new ChildGroup();
  const stop = new AbortController();
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      if (performance.now() - firstSignalAt < REPEAT_SIGNAL_MIN_MS) return;
      say(`${signal} again: killing every process now`);
      for (const child of group.children) child.kill();
      return;
    }
    firstSignalAt = performance.now();
    say(`${signal}: stopping ${group.children.filter((c) => c.running).length} processes...`);
    stop.abort(new Error(`stopped by ${signal}`));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // `pnpm dev` stopped by a signal to pnpm kills only pnpm's shim: we notice, and stop as on Ctrl-C.
  const unwatch = watchParent(() => {
    if (stop.signal.aborted) return;
    firstSignalAt = performance.now();
    say(`parent process gone: stopping ${group.children.filter((c) => c.running).length} processes...`);
    stop.abort(new Error('stopped: parent process gone'));
  });
  const stopped = new Promise<'stop'>((resolve) =>
    stop.signal.addEventListener('abort', () => resolve('stop')),
  );

  let code = 0;
  try {
    // Any child dying during startup ends it, not only the one being waited for.
    const died = group.firstExit.then(({ child, exit }) =>
      Promise.reject(child.failure(exit, 'before it was ready')),
    );
    const cluster = await Promise.race([startDevCluster(o, group, stop.signal), died]);
    printReady(cluster, o);
    const outcome = await Promise.race([stopped, group.firstExit]);
    if (outcome !== 'stop') {
      await sleep(SIGNAL_RACE_MS);
      if (!stop.signal.aborted) {
        complain(outcome.child.failure(outcome.exit, 'unexpectedly; stopping everything').message);
        code = 1;
      }
    }
  } catch (error) {
    if (!stop.signal.aborted && error instanceof DevError && error.code === 'PD_ERR_DEV_CHILD_FAILED') {
      await sleep(SIGNAL_RACE_MS);
    }
    if (!stop.signal.aborted) {
      complain(error instanceof Error ? error.message : String(error));
      code = 1;
    }
  } finally {
    await group.stopAll();
    unwatch();
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  if (group.children.length > 0) say(code === 0 ? 'stopped' : 'stopped after a failure');
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseDevArgs>;
  try {
    command = parseDevArgs(argv);
  } catch (error) {
    complain(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (command.kind === 'help') {
    say(HELP_TEXT);
    return 0;
  }
  return run(command.options);
}

// Once the terminal or the parent is gone, writing output may fail (EPIPE): that must not stop the
// cleanup of the children.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    complain(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
