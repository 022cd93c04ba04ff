#!/usr/bin/env node
import { HELP_TEXT, parseCliArgs } from './cli-args.js';
import { createMockVllm } from './mock-server.js';

/** How often PD_EXIT_WITH_PARENT=1 checks that the parent process is still there. */
const PARENT_POLL_MS = 500;
/** Read at load: a parent that dies while we start up is noticed too. */
const STARTING_PARENT_PID = process.ppid;

/**
 * Opt-in (`PD_EXIT_WITH_PARENT=1`, set by `pnpm dev` for its children): when the process that
 * started this one dies, even by SIGKILL, this one is re-parented (its ppid changes); it then
 * stops as on SIGTERM, so no orphan is left listening. A poll, because Linux tells a child nothing
 * when its parent dies; the timer is unref'd so it never keeps the process alive.
 */
function exitWithParent(): void {
  if (process.env.PD_EXIT_WITH_PARENT !== '1') return;
  const timer = setInterval(() => {
    if (process.ppid === STARTING_PARENT_PID) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_POLL_MS);
  timer.unref();
}

async function main(): Promise<number> {
  let command: ReturnType<typeof parseCliArgs>;
  try {
    command = parseCliArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`mock-vllm: ${(error as Error).message}\n`);
    return 2;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${HELP_TEXT}\n`);
    return 0;
  }
  const mock = await createMockVllm(command.options);
  process.stdout.write(
    `mock-vllm role=${mock.role} url=${mock.url} kv=${mock.kvAddress} model=${mock.model}\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    exitWithParent();
  });
  await mock.close();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`mock-vllm: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
