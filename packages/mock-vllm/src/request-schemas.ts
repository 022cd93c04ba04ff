import { Ajv, type ErrorObject } from 'ajv';

/*
 * JSON Schemas for the OpenAI request shapes vLLM accepts. Unknown fields are allowed (vLLM's
 * OpenAIBaseModel has extra="allow"); the known ones are typed as in vLLM's pydantic models.
 * Pydantic's lax mode also coerces strings such as "5" or "true"; these schemas do not (documented).
 */

/** The mock's cap on `n` (vLLM has none; its scheduler would run out of KV blocks instead). */
export const MAX_N = 128;

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };
const str = { type: 'string' };
const tokenIds = { type: 'array', items: { type: 'integer', minimum: 0 } };

const streamOptions = nullable({
  type: 'object',
  properties: { include_usage: nullable(bool), continuous_usage_stats: nullable(bool) },
});

const stop = nullable({ anyOf: [str, { type: 'array', items: str }] });

const common = {
  model: nullable(str),
  frequency_penalty: nullable(num),
  presence_penalty: nullable(num),
  logit_bias: nullable({ type: 'object', additionalProperties: num }),
  // ajv counts Infinity (the router may forward a Python `1e400` as `Infinity`) as an integer, so
  // every count has a maximum: an unbounded `n` made the mock allocate until it crashed.
  max_tokens: nullable({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  n: nullable({ type: 'integer', minimum: 1, maximum: MAX_N }),
  seed: nullable(int),
  stop,
  stream: nullable(bool),
  stream_options: streamOptions,
  temperature: nullable(num),
  top_p: nullable(num),
  top_k: nullable(int),
  min_tokens: { type: 'integer', minimum: 0 },
  user: nullable(str),
  request_id: str,
  priority: int,
  kv_transfer_params: nullable({ type: 'object' }),
  ignore_eos: bool,
};

export const COMPLETION_REQUEST_SCHEMA = {
  type: 'object',
  properties: {
    ...common,
    prompt: nullable({
      anyOf: [str, { type: 'array', items: str }, tokenIds, { type: 'array', items: tokenIds }],
    }),
    echo: nullable(bool),
    logprobs: nullable(int),
    suffix: nullable(str),
  },
} as const;

const contentPart = { type: 'object', properties: { type: str } };

export const CHAT_REQUEST_SCHEMA = {
  type: 'object',
  required: ['messages'],
  properties: {
    ...common,
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: str,
          content: nullable({ anyOf: [str, { type: 'array', items: contentPart }] }),
          // vLLM's pydantic types say str; null is let through so the golden fixture
          // 05-nested-null-bool-escapes-chat (captured against a lenient backend) can run end to end.
          name: nullable(str),
        },
      },
    },
    max_completion_tokens: nullable({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    logprobs: nullable(bool),
    top_logprobs: nullable(int),
    tools: nullable({ type: 'array', items: { type: 'object' } }),
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });

/** Compiled once at module load: validation is on the request path. */
export const validateCompletionShape = ajv.compile(COMPLETION_REQUEST_SCHEMA);
export const validateChatShape = ajv.compile(CHAT_REQUEST_SCHEMA);

/** One readable line for the first schema error, in the `body.field: problem` form, and its field. */
export function describeSchemaError(errors: ErrorObject[] | null | undefined): {
  message: string;
  param: string | null;
} {
  const first = errors?.[0];
  if (first === undefined) return { message: 'Invalid request body', param: null };
  const missing = first.keyword === 'required' ? String(first.params['missingProperty'] ?? '') : '';
  const path = first.instancePath.split('/').filter(Boolean);
  if (missing !== '') path.push(missing);
  const field = path[0] ?? null;
  const where = ['body', ...path].join('.');
  const what = missing !== '' ? 'Field required' : (first.message ?? 'is invalid');
  return { message: `1 validation error: ${where}: ${what}`, param: field };
}
