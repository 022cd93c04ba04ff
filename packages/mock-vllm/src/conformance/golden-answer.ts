import { bytesToLatin1, latin1ToBytes } from './http-message.js';
import { UUID_PLACEHOLDER } from './request-id-rule.js';
import type { GoldenRound } from './types.js';

export interface GoldenAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/**
 * What a fake NIXL prefill answers in conformance mode: exactly what the captured prefill answered,
 * with `{uuid}` set to this request's id, so its `kv_transfer_params` can end up in the decode body
 * as the capture expects. Undefined for P2P NCCL rounds (their answers carry nothing the router uses).
 * The caller sets `Content-Length` from `body.length` (the id may differ in length from `{uuid}`).
 *
 * @example
 * const answer = goldenPrefillAnswer(round, req.headers['x-request-id']);
 * if (answer) res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
 */
export function goldenPrefillAnswer(round: GoldenRound, requestId: string): GoldenAnswer | undefined {
  const res = round.prefillResponse;
  if (res === undefined) return undefined;
  const contentType =
    res.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
  const body = latin1ToBytes(bytesToLatin1(res.body).split(UUID_PLACEHOLDER).join(requestId));
  return { status: res.status, contentType, body };
}
