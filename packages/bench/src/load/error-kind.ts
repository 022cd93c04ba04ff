/**
 * Short, stable names for why a request failed, so a report can say "12 × connect_refused"
 * rather than print stack traces. Undici errors are matched by `code` (their stable contract).
 */
export type ErrorKind = string;

const BY_CODE: Readonly<Record<string, ErrorKind>> = {
  ECONNREFUSED: 'connect_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_CONNECT_TIMEOUT: 'connect_timeout',
  UND_ERR_HEADERS_TIMEOUT: 'headers_timeout',
  UND_ERR_BODY_TIMEOUT: 'body_timeout',
  UND_ERR_SOCKET: 'socket_closed',
  UND_ERR_ABORTED: 'aborted',
  UND_ERR_CLOSED: 'client_closed',
  UND_ERR_DESTROYED: 'client_closed',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'length_mismatch',
  UND_ERR_INFO: 'protocol',
  HPE_INVALID_CONSTANT: 'protocol',
};

/**
 * @example
 * errorKindOf(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })); // 'connect_refused'
 */
export function errorKindOf(error: unknown): ErrorKind {
  if (typeof error === 'object' && error !== null) {
    const code: unknown = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      const known = BY_CODE[code];
      if (known !== undefined) return known;
      if (code.startsWith('HPE_')) return 'protocol';
      return code.toLowerCase();
    }
    const name: unknown = (error as { name?: unknown }).name;
    if (name === 'AbortError') return 'aborted';
    // undici wraps the socket error; the cause carries the errno code.
    const cause: unknown = (error as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== error) return errorKindOf(cause);
  }
  return 'other';
}

/** Kind for an answer with a non-200 status, e.g. `http_502`. */
export function httpStatusKind(status: number, phase?: 'prefill'): ErrorKind {
  return phase === undefined ? `http_${status}` : `${phase}_http_${status}`;
}
