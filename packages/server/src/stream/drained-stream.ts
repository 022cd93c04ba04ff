import { upstreamMessage } from '../upstream/error-text.js';

/** vLLM's in-stream error event (`create_streaming_error_response`), with or without the space. */
const ERROR_EVENTS = ['data: {"error"', 'data:{"error"'] as const;
const FINISH_REASON = '"finish_reason"';
/** The OpenAI stream's own end marker: a stream that carries it was not cut short. */
const DONE = 'data: [DONE]';
const QUOTE = 0x22;

/** Whether some `"finish_reason"` in the bytes has a string value (a choice that finished). */
function hasFinish(body: Buffer): boolean {
  for (let at = body.indexOf(FINISH_REASON); at >= 0; at = body.indexOf(FINISH_REASON, at + 1)) {
    let i = at + FINISH_REASON.length;
    // Skip `:` and JSON whitespace; vLLM writes none, other servers may.
    while (i < body.length && (body[i] === 0x3a || body[i] === 0x20 || body[i] === 0x09)) i++;
    if (body[i] === QUOTE) return true;
  }
  return false;
}

/**
 * Checks the tail of a drained 2xx event stream (a prefill's): vLLM answers an error met while
 * generating with a 200 stream carrying `data: {"error": {...}}` (then `[DONE]`), and a stream cut
 * short by a broken proxy ends with neither a finished choice nor `data: [DONE]`. A stream that
 * ends with `[DONE]` but names no finish reason (servers that omit the field) is complete. Either way the prefill computed no
 * KV to hand over: the result says why (worded after the worker's name), or undefined when fine.
 * Byte searches only, no parse: the check runs on every streamed request.
 *
 * @example checkDrainedStream(Buffer.from('data: {"error": {"message": "boom"}}\n\n')) // 'ended its stream with an error: boom'
 */
export function checkDrainedStream(body: Buffer): string | undefined {
  for (const marker of ERROR_EVENTS) {
    const at = body.indexOf(marker);
    if (at < 0) continue;
    const end = body.indexOf(0x0a, at);
    const data = body.subarray(at + marker.indexOf('{'), end < 0 ? body.length : end);
    const message = upstreamMessage(data);
    return `ended its stream with an error${message === '' ? '' : `: ${message}`}`;
  }
  return hasFinish(body) || body.lastIndexOf(DONE) >= 0 ? undefined : 'ended its stream without finishing';
}
