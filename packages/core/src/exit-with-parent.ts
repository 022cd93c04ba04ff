/** How often PD_EXIT_WITH_PARENT=1 checks that the parent process is still there. */
const PARENT_POLL_MS = 500;
/** Read at load (a CLI imports this module first thing): a parent that dies while we start up is noticed too. */
const STARTING_PARENT_PID = process.ppid;

/**
 * Opt-in (`PD_EXIT_WITH_PARENT=1`, set by `pnpm dev` for its children): when the process that
 * started this one dies, even by SIGKILL, this one is re-parented (its ppid changes); it then
 * stops as on SIGTERM, so no orphan is left listening. A poll, because Linux tells a child nothing
 * when its parent dies; the timer is unref'd so it never keeps the process alive. The CLIs of
 * pd-router and mock-vllm call it once their SIGTERM handler is in place.
 */
export function exitWithParent(): void {
  if (process.env.PD_EXIT_WITH_PARENT !== '1') return;
  const timer = setInterval(() => {
    if (process.ppid === STARTING_PARENT_PID) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, PARENT_POLL_MS);
  timer.unref();
}
