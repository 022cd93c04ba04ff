// The public API of @pd-router/core, listed by hand: anything not exported here is private.
// Documentation (with examples) lives on each declaration; the README lists them all.

export type { CanonicalRequest, ParseOptions, PyObject, PyValue } from './canonical-json.js';
export {
  CanonicalRequestJob,
  canonicalize,
  canonicalRequest,
  PyNumber,
  parsePyJson,
  prefillBody,
  serializePyJson,
} from './canonical-json.js';
export type { CoreErrorCode, CoreErrorOptions, PdErrorOptions } from './errors.js';
export { CORE_ERROR_CODES, CoreError, PdError } from './errors.js';
export { exitWithParent } from './exit-with-parent.js';
export type { RequestIdAddresses, ZmqAddress } from './request-id.js';
export { createRequestId, parseRequestId, parseZmqAddress } from './request-id.js';
export { createResponseIdRewriter, publicRequestId, ResponseIdRewriter } from './response-id.js';
export type { Result } from './result.js';
export { err, ok } from './result.js';
export type { SseEvent } from './sse.js';
export { formatSseData, formatSseEvent, SSE_DONE, SseParser } from './sse.js';
export type { WorkerAddress, WorkerUrlOptions } from './worker-url.js';
export { parseWorkerUrl } from './worker-url.js';
