/** A decode answered a status that a retry replaces; it was not relayed (stream/relay.ts). */
export class UpstreamStatusError extends Error {
  readonly code = 'ERR_UPSTREAM_STATUS';
  readonly status: number;

  constructor(status: number) {
    super(`the upstream answered HTTP ${status}`);
    this.name = 'UpstreamStatusError';
    this.status = status;
  }
}

/** `--request-timeout-secs` ran out: the leg in flight is aborted, a stream ends with the error event. */
export class RequestTimeoutError extends Error {
  readonly code = 'ERR_REQUEST_TIMEOUT';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`the request took longer than ${timeoutMs} ms`);
    this.name = 'RequestTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
