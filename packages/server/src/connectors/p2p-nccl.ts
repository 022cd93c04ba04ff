import {
  CanonicalRequestJob,
  canonicalRequest,
  createRequestId,
  ok,
  type ParseOptions,
} from '@pd-router/core';
import { REFERENCE_PROXY_HEADER_ORDER } from '../upstream/headers.js';
import { runSequential } from './sequential.js';
import type { SequentialConnector } from './types.js';

/**
 * vLLM's P2pNcclConnector, as its reference proxy drives it: the prefill gets the canonical body
 * with `max_tokens: 1` (core's prefill edits), the decode gets the canonical original body, and
 * both get one X-Request-Id carrying P's and D's ZMQ addresses. P's answer is drained, not used.
 * `parse`: core's limits (`maxElements` from `--max-json-elements`).
 *
 * @example
 * const prepared = createP2pNcclConnector({ maxElements: 4_194_304 }).prepare(bytes);
 */
export function createP2pNcclConnector(parse: ParseOptions = {}): SequentialConnector {
  return {
    name: 'p2p-nccl',
    headerOrder: REFERENCE_PROXY_HEADER_ORDER,
    prefillAnswerLimitBytes: 0,
    prepare(raw) {
      // CanonicalRequest already has the PreparedRequest shape: one parse, both bodies.
      return canonicalRequest(raw, parse);
    },
    prepareJob(raw) {
      return new CanonicalRequestJob(raw, parse);
    },
    requestId(prefill, decode, random16) {
      return createRequestId(prefill.zmq, decode.zmq, random16);
    },
    decodeBody(request) {
      // Always set by prepare() for this connector.
      return ok({ body: request.decode ?? '' });
    },
    run(request, legs) {
      return runSequential(this, request, legs);
    },
  };
}

/** The P2P NCCL connector with core's default limits. */
export const p2pNcclConnector: SequentialConnector = createP2pNcclConnector();
