import type { ServerResponse } from 'node:http';
import { formatSseData, SSE_DONE } from '@pd-router/core';
import { vllmErrorBody } from './error-body.js';
import type { RequestFaults } from './fault-book.js';
import type { GenerationPlan } from './generation-plan.js';
import { sleep, writeChunk } from './http-io.js';
import { streamSteps } from './openai-responses.js';

export type StreamOutcome = 'done' | 'aborted' | 'reset';

/** A frame that is not valid SSE JSON: truncated, and without the blank line that ends an event. */
function malformedFrame(plan: GenerationPlan): string {
  return `data: {"id":"${plan.id}","object":"${plan.route === 'chat' ? 'chat.completion.chunk' : 'text_completion'}","choices":[{"index":0,"te\n`;
}

/**
 * Streams a planned answer as SSE (headers already sent): step 0 at once, then one step per
 * inter-token interval, applying the stall / malformed-SSE / reset faults by event index.
 */
export async function writeStream(
  res: ServerResponse,
  plan: GenerationPlan,
  interTokenMs: number,
  faults: RequestFaults,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  const flush = faults.resetAfterEvents !== undefined;
  let event = 0;
  let first = true;
  for (const step of streamSteps(plan)) {
    if (!first && !(await sleep(interTokenMs, signal))) return 'aborted';
    first = false;
    for (const data of step) {
      if (faults.stall !== undefined && event === faults.stall.after) {
        if (!(await sleep(faults.stall.ms, signal))) return 'aborted';
      }
      if (faults.resetAfterEvents !== undefined && event >= faults.resetAfterEvents) {
        res.socket?.resetAndDestroy();
        return 'reset';
      }
      if (faults.malformedAt === event) await writeChunk(res, malformedFrame(plan), flush);
      await writeChunk(res, data === '[DONE]' ? SSE_DONE : formatSseData(data), flush);
      if (signal.aborted) return 'aborted';
      event += 1;
    }
  }
  res.end();
  return 'done';
}

/** vLLM's in-stream failure: an `{"error": ...}` event, then `[DONE]`, on a stream already answered 200. */
export function writeSseError(res: ServerResponse, status: number, message: string): void {
  if (res.destroyed) return;
  res.end(formatSseData(JSON.stringify(vllmErrorBody(status, message))) + SSE_DONE);
}
