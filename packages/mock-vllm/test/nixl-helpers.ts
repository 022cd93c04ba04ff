import { randomUUID } from 'node:crypto';
import type { MockVllm } from '../src/index.js';
import { post, type Reply, send } from './helpers.js';

/** The skeleton vLLM's NIXL toy proxy puts into every prefill body, in its key order. */
export const PREFILL_SKELETON = {
  do_remote_decode: true,
  do_remote_prefill: false,
  remote_engine_id: null,
  remote_block_ids: null,
  remote_host: null,
  remote_port: null,
};

/** 200 characters: 50 prompt tokens by the mock's estimate, so 3 full blocks of 16. */
export const LONG_PROMPT = 'The quick brown fox jumps over the lazy dog. '.repeat(5).slice(0, 200);

export const longCompletion = (extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  prompt: LONG_PROMPT,
  max_tokens: 3,
  ...extra,
});

export const longChat = (extra: Record<string, unknown> = {}) => ({
  model: 'mock-model',
  messages: [{ role: 'user', content: LONG_PROMPT }],
  max_tokens: 3,
  ...extra,
});

export type Params = Record<string, unknown>;

/** The toy proxy's prefill leg: skeleton, stream false, max_tokens 1. Returns the reply and its params. */
export async function prefillLeg(
  prefill: MockVllm,
  route: string,
  body: Record<string, unknown>,
  id: string = randomUUID(),
): Promise<{ reply: Reply; json: Record<string, unknown>; params: Params | null; id: string }> {
  const reply = await post(
    prefill.url,
    route,
    { ...body, kv_transfer_params: PREFILL_SKELETON, stream: false, max_tokens: 1 },
    { 'x-request-id': id },
  );
  const json = JSON.parse(reply.text) as Record<string, unknown>;
  return { reply, json, params: (json['kv_transfer_params'] as Params | null) ?? null, id };
}

/** The toy proxy's decode leg: the client body plus the prefill's params when truthy. */
export function decodeLeg(
  decode: MockVllm,
  route: string,
  body: Record<string, unknown>,
  params: Params | null,
  id: string = randomUUID(),
): Promise<Reply> {
  return post(decode.url, route, params === null ? body : { ...body, kv_transfer_params: params }, {
    'x-request-id': id,
  });
}

/** The `remote_block_ids` of a prefill's params ([] when there are none). */
export function blockIdsOf(params: Params | null): number[] {
  return (params?.['remote_block_ids'] as number[] | undefined) ?? [];
}

/** One sample of GET /metrics, e.g. value(text, 'vllm:nixl_recomputes_total', 'reason="missing_params"'). */
export function metricValue(text: string, name: string, label?: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (label !== undefined && !line.includes(label)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return Number.NaN;
}

export async function metricsOf(mock: MockVllm): Promise<string> {
  return (await send(`${mock.url}/metrics`)).text;
}

/** The last completion request the mock received (the one a test just sent). */
export function lastReceived(mock: MockVllm) {
  const entry = mock.received.at(-1);
  if (entry === undefined) throw new Error('no request received');
  return entry;
}
