/** How often main.js checks that its parent (pnpm, a shell) is still there. */
export const PARENT_POLL_MS = 500;

export interface ParentWatchOptions {
  readonly intervalMs?: number;
  /** The current parent pid; injected by tests. Default: `process.ppid`. */
  readonly ppid?: () => number;
}

/**
 * Calls `onGone` once when the process that started us is gone. `pnpm dev` runs main.js under a
 * pnpm shim: a SIGTERM to pnpm kills only the shim, and nothing tells us (Linux does not signal a
 * child when its parent dies). We are re-parented then, so the parent pid changes: polled on an
 * unref'd timer, which never keeps the process alive. Returns a function that stops watching.
 *
 * @example
 * const unwatch = watchParent(() => stop.abort(new Error('parent gone')));
 */
export function watchParent(onGone: () => void, options: ParentWatchOptions = {}): () => void {
  const ppid = options.ppid ?? (() => process.ppid);
  const parent = ppid();
  const timer = setInterval(() => {
    if (ppid() === parent) return;
    clearInterval(timer);
    onGone();
  }, options.intervalMs ?? PARENT_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
