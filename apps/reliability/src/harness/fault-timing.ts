/** Slack on top of a budget before "within the configured timeout" fails: the machine is loaded. */
export const MARGIN_MS = 2_000;
/**
 * The router enforces its leg budgets with its own setTimeout (undici's coarse timeouts are only a
 * backstop a second later), so a timeout never fires early. Node's timers run on libuv's
 * millisecond clock (truncated): a budget can end up to 1 ms short of a `performance.now()` span.
 */
export const CLOCK_GRANULARITY_MS = 1;
/**
 * The router's upstream keep-alive (4 s) plus slack for a loaded machine: by then every idle
 * upstream socket is closed (the wait ends as soon as they are).
 */
export const IDLE_SOCKETS_GONE_MS = 15_000;
