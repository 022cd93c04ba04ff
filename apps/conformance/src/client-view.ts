/**
 * What a client must get for a decode's answer: the answer itself, except that vLLM's id under
 * P2P NCCL (`chatcmpl-`/`cmpl-` + the request id, which names both workers' KV addresses) is
 * shortened to the request id's random part, as docs/wire-contract.md ("Answer ids") says. Written
 * here from that rule, independently of the router's own rewriter, so the check can catch it.
 */
export function clientView(answer: Buffer, requestId: string | undefined): Buffer {
  if (requestId === undefined || !requestId.startsWith('___prefill_addr_')) return answer;
  const hex = requestId.slice(requestId.lastIndexOf('_') + 1);
  const text = answer.toString('latin1');
  return Buffer.from(text.split(`cmpl-${requestId}"`).join(`cmpl-${hex}"`), 'latin1');
}
