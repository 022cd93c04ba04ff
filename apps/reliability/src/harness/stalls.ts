/** A 1 ms timer this late means the process was held up (normal timer jitter stays below). */
const STALL_MS = 5;

/**
 * Runs `run` while a 1 ms timer measures how long this process's event loop was held up (each
 * hold-up over STALL_MS, summed). Client, router and mocks of an in-process stack share the
 * process, so such a stall (a loaded machine not scheduling it, a GC pause) delays all of them
 * alike: a time bound on the router alone is checked on the elapsed time less the stalls.
 *
 * @example
 * const { value, stalledMs } = await measureStalls(() => postCompletion(url, body));
 */
export async function measureStalls<T>(run: () => Promise<T>): Promise<{ value: T; stalledMs: number }> {
  let stalledMs = 0;
  let last = performance.now();
  const tick = (): void => {
    const now = performance.now();
    const late = now - last - 1;
    if (late > STALL_MS) stalledMs += late;
    last = now;
  };
  const timer = setInterval(tick, 1);
  try {
    const value = await run();
    tick();
    return { value, stalledMs };
  } finally {
    clearInterval(timer);
  }
}
