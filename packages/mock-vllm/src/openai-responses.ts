import { type GenerationPlan, generatedText, tokenText } from './generation-plan.js';
import type { JsonValue } from './request-body.js';

/*
 * Response bodies in vLLM's shapes (field order as its pydantic models serialize them, compact JSON
 * as Starlette's JSONResponse and pydantic's model_dump_json write it). Non-streaming answers dump
 * every field; stream chunks dump only the fields vLLM sets (`exclude_unset=True`).
 */

function usage(prompt: number, completion: number): Record<string, number> {
  return { prompt_tokens: prompt, total_tokens: prompt + completion, completion_tokens: completion };
}

function choiceText(plan: GenerationPlan, index: number): string {
  const choice = plan.choices[index];
  const echoed = plan.echo && choice?.prompt.text !== undefined ? choice.prompt.text : '';
  return echoed + generatedText(plan.tokens);
}

/**
 * The non-streaming JSON body (`CompletionResponse` / `ChatCompletionResponse`). `kvTransferParams`
 * is what a NIXL prefill hands back (null otherwise, as vLLM always dumps the field).
 *
 * @example
 * JSON.parse(renderJsonBody(plan)).choices[0].text // " tok0 tok1"
 */
export function renderJsonBody(plan: GenerationPlan, kvTransferParams: JsonValue = null): string {
  const u = { ...usage(plan.promptTokens, plan.completionTokens), prompt_tokens_details: null };
  const chat = plan.route === 'chat';
  const choices = plan.choices.map((c) =>
    chat
      ? {
          index: c.index,
          message: {
            role: 'assistant',
            content: choiceText(plan, c.index),
            refusal: null,
            annotations: null,
            audio: null,
            function_call: null,
            tool_calls: [],
            reasoning_content: null,
          },
          logprobs: null,
          finish_reason: plan.finishReason,
          stop_reason: null,
        }
      : {
          index: c.index,
          text: choiceText(plan, c.index),
          logprobs: null,
          finish_reason: plan.finishReason,
          stop_reason: null,
          prompt_logprobs: null,
        },
  );
  return JSON.stringify({
    id: plan.id,
    object: chat ? 'chat.completion' : 'text_completion',
    created: plan.created,
    model: plan.model,
    choices,
    service_tier: null,
    system_fingerprint: null,
    usage: u,
    // A chat answer dumps prompt_logprobs at the top level; a completion, per choice (above).
    ...(chat ? { prompt_logprobs: null } : {}),
    kv_transfer_params: kvTransferParams,
  });
}

/** One streamed chunk per choice for token `i` (`last` carries the finish reason). */
function tokenChunks(plan: GenerationPlan, i: number): string[] {
  const last = i >= plan.tokens - 1;
  const out: string[] = [];
  for (const c of plan.choices) {
    let text = i < plan.tokens ? tokenText(i) : '';
    if (i === 0 && plan.echo && c.prompt.text !== undefined) text = c.prompt.text + text;
    const fin = last ? plan.finishReason : null;
    const chunk: Record<string, unknown> = {
      id: plan.id,
      object: plan.route === 'chat' ? 'chat.completion.chunk' : 'text_completion',
      created: plan.created,
      model: plan.model,
      choices: [
        plan.route === 'chat'
          ? last
            ? {
                index: c.index,
                delta: { content: text },
                logprobs: null,
                finish_reason: fin,
                stop_reason: null,
              }
            : { index: c.index, delta: { content: text }, logprobs: null, finish_reason: null }
          : { index: c.index, text, logprobs: null, finish_reason: fin, stop_reason: null },
      ],
    };
    if (plan.continuousUsage) chunk['usage'] = usage(c.prompt.tokens, Math.min(i + 1, plan.tokens));
    out.push(JSON.stringify(chunk));
  }
  return out;
}

/**
 * The SSE `data:` payloads of a streamed answer, grouped by generation step: step 0 is sent at the
 * time to first token, each later step one inter-token interval after the previous one. The last
 * step ends with the usage chunk (when `stream_options.include_usage`) and `[DONE]`.
 *
 * @example
 * for (const step of streamSteps(plan)) for (const data of step) res.write(`data: ${data}\n\n`);
 */
export function* streamSteps(plan: GenerationPlan): Generator<string[]> {
  const steps = Math.max(plan.tokens, 1);
  for (let i = 0; i < steps; i += 1) {
    const frames: string[] = [];
    if (i === 0 && plan.route === 'chat') {
      for (const c of plan.choices) {
        frames.push(
          JSON.stringify({
            id: plan.id,
            object: 'chat.completion.chunk',
            created: plan.created,
            model: plan.model,
            choices: [
              {
                index: c.index,
                delta: { role: 'assistant', content: '' },
                logprobs: null,
                finish_reason: null,
              },
            ],
          }),
        );
      }
    }
    frames.push(...tokenChunks(plan, i));
    if (i === steps - 1) {
      if (plan.includeUsage) {
        frames.push(
          JSON.stringify({
            id: plan.id,
            object: plan.route === 'chat' ? 'chat.completion.chunk' : 'text_completion',
            created: plan.created,
            model: plan.model,
            choices: [],
            usage: usage(plan.promptTokens, plan.completionTokens),
          }),
        );
      }
      frames.push('[DONE]');
    }
    yield frames;
  }
}
