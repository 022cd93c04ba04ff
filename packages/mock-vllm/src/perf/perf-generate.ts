import type { ServerResponse } from 'node:http';
import { formatSseData, SSE_DONE } from '@pd-router/core';
import type { GenerationPlan } from '../generation-plan.js';
import { JSON_CONTENT_TYPE, writeChunk } from '../http-io.js';
import type { MockMetrics } from '../metrics.js';
import { renderJsonBody, streamSteps } from '../openai-responses.js';
import type { JsonValue } from '../request-body.js';
import type { PerfEngine } from './engine.js';
import { blockHashes } from './tokenize.js';

type JsonObject = { [key: string]: JsonValue };

export interface PerfLegHooks {
  /** Runs once the prompt is computed, before the first token goes out (P2P NCCL: push the KV). */
  readonly afterPrefill: (() => Promise<void>) | undefined;
  /** NIXL prefill: settles the blocks at the end; returns the answer's params. */
  readonly finish: (() => JsonObject | null) | undefined;
  /** The decode received the prompt's KV from a prefill. */
  readonly remotePrefill: boolean;
}

/**
 * Generates a planned answer paced by the performance model: the request joins the engine's queue
 * and its tokens go out as the engine's steps produce them (several at once when the process lags).
 * The model sees one sequence: the first prompt, generating `plan.tokens` tokens.
 * Resolves when the answer is complete or the client went away.
 */
export async function generateWithPerf(
  engine: PerfEngine,
  metrics: MockMetrics,
  plan: GenerationPlan,
  hooks: PerfLegHooks,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const prompt = plan.choices[0]?.prompt;
  const hashes = blockHashes(prompt?.perfText ?? '', engine.profile.blockSize);
  const steps = plan.stream ? streamSteps(plan) : undefined;
  let chain = Promise.resolve();
  let first = true;
  await new Promise<void>((resolve) => {
    const onAbort = (): void => {
      ticket.cancel();
      resolve();
    };
    const ticket = engine.submit(
      {
        promptTokens: Math.max(prompt?.tokens ?? 0, 1),
        hashes,
        maxTokens: Math.max(plan.tokens, 1),
        remotePrefill: hooks.remotePrefill,
      },
      {
        onTokens: (n, finished) => {
          chain = chain.then(async () => {
            if (signal.aborted) return;
            if (first) {
              first = false;
              metrics.promptTokens += plan.promptTokens;
              await hooks.afterPrefill?.();
            }
            if (steps !== undefined) {
              let text = '';
              for (let i = 0; i < n; i++) {
                const step = steps.next();
                if (step.done === true) break;
                for (const data of step.value) text += data === '[DONE]' ? SSE_DONE : formatSseData(data);
              }
              // The last engine token also drains what streamSteps still holds (usage, [DONE]).
              if (finished)
                for (const step of steps)
                  for (const data of step) text += data === '[DONE]' ? SSE_DONE : formatSseData(data);
              if (text !== '') await writeChunk(res, text, false);
            }
            if (!finished) return;
            signal.removeEventListener('abort', onAbort);
            if (steps !== undefined) {
              res.end();
              hooks.finish?.();
            } else {
              const body = renderJsonBody(plan, hooks.finish?.() ?? null);
              res.writeHead(200, {
                'content-type': JSON_CONTENT_TYPE,
                'content-length': Buffer.byteLength(body),
              });
              res.end(body);
            }
            metrics.countFinished(plan);
            resolve();
          });
        },
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  await chain;
}
