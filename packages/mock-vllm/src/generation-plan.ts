import type { CompletionRequest, CompletionRoute, PromptInfo, RequestProblem } from './completion-request.js';

export type FinishReason = 'length' | 'stop';

export interface PlannedChoice {
  readonly index: number;
  readonly prompt: PromptInfo;
}

/** Everything needed to render one answer, decided before any token is produced. */
export interface GenerationPlan {
  readonly route: CompletionRoute;
  /** `cmpl-{base}` / `chatcmpl-{base}`, as vLLM names its responses. */
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly choices: readonly PlannedChoice[];
  /** Tokens each choice generates. */
  readonly tokens: number;
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly continuousUsage: boolean;
  readonly echo: boolean;
}

export interface PlanOptions {
  /** The base request id (X-Request-Id, else body request_id, else a random hex uuid). */
  readonly baseId: string;
  readonly model: string;
  /** Tokens when the client sets none: vLLM's completion default (16) and the chat stand-in for "until EOS". */
  readonly defaultMaxTokens: number;
  /** Context window: prompt + max tokens beyond it is vLLM's 400. */
  readonly maxModelLen: number;
  readonly nowSeconds: number;
}

export type PlanOutcome =
  | { readonly ok: true; readonly value: GenerationPlan }
  | { readonly ok: false; readonly error: RequestProblem };

/**
 * Decides the answer: ids, choices, token count and finish reason. A request without a token limit
 * ends with `stop` after `defaultMaxTokens` for chat (as if the model emitted EOS) and with `length`
 * for completions (vLLM's `max_tokens` default is 16).
 *
 * @example
 * planGeneration(request, { baseId: 'abc', model: 'm', defaultMaxTokens: 16, maxModelLen: 32768, nowSeconds: 0 })
 */
export function planGeneration(req: CompletionRequest, o: PlanOptions): PlanOutcome {
  const requested = req.maxTokens;
  const tokens = requested ?? o.defaultMaxTokens;
  const finishReason: FinishReason = requested === null && req.route === 'chat' ? 'stop' : 'length';
  let promptTokens = 0;
  for (const p of req.prompts) {
    promptTokens += p.tokens;
    if (p.tokens + tokens > o.maxModelLen) {
      const message =
        `This model's maximum context length is ${o.maxModelLen} tokens. However, you requested ` +
        `${p.tokens + tokens} tokens (${p.tokens} in the messages, ${tokens} in the completion). ` +
        'Please reduce the length of the messages or completion.';
      return { ok: false, error: { status: 400, message, param: null } };
    }
  }
  const choices: PlannedChoice[] = [];
  for (const prompt of req.prompts) {
    for (let k = 0; k < req.n; k += 1) choices.push({ index: choices.length, prompt });
  }
  return {
    ok: true,
    value: {
      route: req.route,
      id: `${req.route === 'chat' ? 'chatcmpl' : 'cmpl'}-${o.baseId}`,
      created: o.nowSeconds,
      model: req.model ?? o.model,
      choices,
      tokens,
      finishReason,
      promptTokens,
      completionTokens: tokens * choices.length,
      stream: req.stream,
      includeUsage: req.includeUsage,
      continuousUsage: req.continuousUsage,
      echo: req.echo,
    },
  };
}

/** The deterministic text of generated token `i`: " tok0", " tok1", ... */
export function tokenText(i: number): string {
  return ` tok${i}`;
}

/** The whole generated text of a choice. */
export function generatedText(tokens: number): string {
  let out = '';
  for (let i = 0; i < tokens; i += 1) out += tokenText(i);
  return out;
}
