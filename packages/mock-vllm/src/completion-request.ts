import { countWords } from './perf/tokenize.js';
import type { JsonValue } from './request-body.js';
import { describeSchemaError, validateChatShape, validateCompletionShape } from './request-schemas.js';

export type CompletionRoute = 'completions' | 'chat';

/** One prompt of a request, as the engine would see it. */
export interface PromptInfo {
  /** Prompt tokens: counted when token ids are sent, else estimated as ceil(chars / 4). */
  readonly tokens: number;
  /** The prompt text (completions with a string prompt), for `echo`. */
  readonly text?: string;
  /** With a performance profile: the text the model tokenizes (see perf/tokenize.ts); `tokens` counts its words. */
  readonly perfText?: string;
}

/** A validated completion or chat request, reduced to what the mock needs to answer it. */
export interface CompletionRequest {
  readonly route: CompletionRoute;
  readonly model: string | undefined;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly continuousUsage: boolean;
  /** Choices per prompt. */
  readonly n: number;
  readonly prompts: readonly PromptInfo[];
  /** Tokens asked for (`max_completion_tokens` ?? `max_tokens`), or null when the client set none. */
  readonly maxTokens: number | null;
  readonly echo: boolean;
  /** vLLM's body `request_id` extension (used when there is no X-Request-Id header). */
  readonly bodyRequestId: string | undefined;
  /** The body's `kv_transfer_params` as sent (an object or null when present; the schema checks it). */
  readonly kvTransferParams: JsonValue | undefined;
}

export interface RequestProblem {
  readonly status: number;
  readonly message: string;
  readonly param: string | null;
}

export type ValidationOutcome =
  | { readonly ok: true; readonly value: CompletionRequest }
  | { readonly ok: false; readonly error: RequestProblem };

const CHARS_PER_TOKEN = 4;
/** Per-message overhead of a chat template (role markers), so an empty chat still costs tokens. */
const CHAT_TOKENS_PER_MESSAGE = 4;

function problem(message: string, param: string | null = null): ValidationOutcome {
  return { ok: false, error: { status: 400, message, param } };
}

/** Estimated tokens of a text: ceil(chars / 4), at least 1 for a non-empty text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/**
 * Validates a parsed body the way vLLM's request models do and reduces it to a CompletionRequest.
 *
 * @example
 * validateCompletionRequest('completions', { prompt: 'hi', max_tokens: 3 })
 */
export function validateCompletionRequest(
  route: CompletionRoute,
  body: JsonValue,
  wordTokens = false,
): ValidationOutcome {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return problem(
      '1 validation error: body: Input should be a valid dictionary or object to extract fields from',
    );
  }
  const valid = route === 'chat' ? validateChatShape(body) : validateCompletionShape(body);
  if (!valid) {
    const { message, param } = describeSchemaError(
      route === 'chat' ? validateChatShape.errors : validateCompletionShape.errors,
    );
    return problem(message, param);
  }
  const b = body as Record<string, JsonValue | undefined>;
  const stream = b['stream'] === true;
  const streamOptions = b['stream_options'];
  if (streamOptions !== undefined && streamOptions !== null && !stream) {
    return problem('Stream options can only be defined when `stream=True`.', 'stream_options');
  }
  const so = (streamOptions ?? {}) as Record<string, JsonValue | undefined>;
  // vLLM's StreamOptions.include_usage defaults to true once stream_options is given.
  const includeUsage = stream && streamOptions != null && so['include_usage'] !== false;
  const continuousUsage = includeUsage && so['continuous_usage_stats'] === true;
  const echo = route === 'completions' && b['echo'] === true;

  let maxTokens: number | null;
  if (route === 'chat') {
    const mct = b['max_completion_tokens'];
    const mt = b['max_tokens'];
    maxTokens = typeof mct === 'number' ? mct : typeof mt === 'number' ? mt : null;
  } else {
    const mt = b['max_tokens'];
    maxTokens = typeof mt === 'number' ? mt : null;
  }
  if (maxTokens !== null && maxTokens < 1 && !echo) {
    return problem(`max_tokens must be at least 1, got ${maxTokens}.`, 'max_tokens');
  }

  const estimated = route === 'chat' ? chatPrompt(b['messages']) : completionPrompts(b['prompt']);
  const prompts =
    wordTokens && estimated !== undefined
      ? promptWords(route === 'chat' ? b['messages'] : b['prompt'], route)
      : estimated;
  if (prompts === undefined) {
    return problem('Either prompt or prompt_embeds must be provided and non-empty.', 'prompt');
  }
  const model = typeof b['model'] === 'string' ? b['model'] : undefined;
  const n = typeof b['n'] === 'number' ? b['n'] : 1;
  const rid = b['request_id'];
  return {
    ok: true,
    value: {
      route,
      model,
      stream,
      includeUsage,
      continuousUsage,
      n,
      prompts,
      maxTokens,
      echo,
      bodyRequestId: typeof rid === 'string' ? rid : undefined,
      kvTransferParams: b['kv_transfer_params'],
    },
  };
}

/**
 * Prompts counted the performance model's way: whitespace-separated words are tokens; a chat is the
 * words of every message's text, in order (no template tokens); token-id prompts are their ids.
 */
function promptWords(input: JsonValue | undefined, route: CompletionRoute): PromptInfo[] {
  if (route === 'chat') {
    const parts: string[] = [];
    messagesText(input, parts);
    const text = parts.join(' ');
    return [{ tokens: countWords(text), perfText: text }];
  }
  const one = (p: JsonValue): PromptInfo => {
    if (typeof p === 'string') return { tokens: countWords(p), text: p, perfText: p };
    const ids = Array.isArray(p) ? p.join(' ') : '';
    return { tokens: countWords(ids), perfText: ids };
  };
  if (typeof input === 'string') return [one(input)];
  if (Array.isArray(input) && typeof input[0] === 'number') return [one(input)];
  return (Array.isArray(input) ? input : []).map(one);
}

/** The text parts of chat messages, in order: string contents and `text` parts. */
function messagesText(messages: JsonValue | undefined, out: string[]): void {
  for (const m of Array.isArray(messages) ? messages : []) {
    const content = typeof m === 'object' && m !== null && !Array.isArray(m) ? m['content'] : undefined;
    if (typeof content === 'string') out.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        const text =
          typeof part === 'object' && part !== null && !Array.isArray(part) ? part['text'] : undefined;
        if (typeof text === 'string') out.push(text);
      }
    }
  }
}

function completionPrompts(prompt: JsonValue | undefined): PromptInfo[] | undefined {
  if (typeof prompt === 'string') {
    return prompt === '' ? undefined : [{ tokens: estimateTokens(prompt), text: prompt }];
  }
  if (!Array.isArray(prompt) || prompt.length === 0) return undefined;
  if (typeof prompt[0] === 'number') return [{ tokens: prompt.length }];
  return prompt.map((p) =>
    typeof p === 'string'
      ? { tokens: estimateTokens(p), text: p }
      : { tokens: Array.isArray(p) ? p.length : 0 },
  );
}

function chatPrompt(messages: JsonValue | undefined): PromptInfo[] {
  const parts: string[] = [];
  messagesText(messages, parts);
  let chars = 0;
  for (const part of parts) chars += part.length;
  const count = Array.isArray(messages) ? messages.length : 0;
  return [{ tokens: Math.ceil(chars / CHARS_PER_TOKEN) + CHAT_TOKENS_PER_MESSAGE * count }];
}
