import { PyNumber, type PyObject, type PyValue } from '@pd-router/core';

/** Python's `n > 1` for a parsed value (a number only; anything else is the decode's to reject). */
function moreThanOne(value: PyValue | undefined): boolean {
  return value instanceof PyNumber && Number(value.text) > 1;
}

/** A completions `prompt` holding several prompts: a list of strings or of token-id lists. */
function isBatchedPrompt(value: PyValue | undefined): boolean {
  if (!Array.isArray(value) || value.length < 2) return false;
  return value.some((item) => typeof item === 'string' || Array.isArray(item));
}

/**
 * Which part of a request makes it several sequences for vLLM (`n` > 1, or a list of several
 * prompts), or undefined for one sequence. A connector that hands over the KV of one sequence per
 * request (NIXL's params, Mooncake's `transfer_id`) cannot serve those.
 *
 * @example
 * batchedParam(parsed) // 'prompt' for {"prompt": ["a", "b"]}
 */
export function batchedParam(body: PyObject): 'n' | 'prompt' | undefined {
  if (moreThanOne(body.get('n'))) return 'n';
  if (isBatchedPrompt(body.get('prompt'))) return 'prompt';
  return undefined;
}
