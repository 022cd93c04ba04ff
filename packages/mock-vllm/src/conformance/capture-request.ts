import { bytesToLatin1, latin1ToBytes, parseHttpMessage } from './http-message.js';
import { UUID_PLACEHOLDER } from './request-id-rule.js';
import type { RawRequest } from './types.js';

/**
 * Turns a captured request (`*.normalized.http` bytes) into the `RawRequest` a mock server would have
 * received, with `{uuid}` replaced by `uuid` everywhere (header and body). Used to replay captures
 * and to prove that every golden request passes against itself.
 *
 * @example
 * const req = rawRequestFromCapture(readFileSync('prefill.normalized.http'), randomBytes(16).toString('hex'));
 */
export function rawRequestFromCapture(capture: Uint8Array, uuid: string): RawRequest {
  const message = parseHttpMessage(latin1ToBytes(bytesToLatin1(capture).split(UUID_PLACEHOLDER).join(uuid)));
  const [method, path] = message?.startLine.split(' ') ?? [];
  if (message === undefined || method === undefined || path === undefined) {
    throw new TypeError('not an HTTP request capture');
  }
  return { method, path, rawHeaders: message.headers.flat(), body: message.body };
}
