import type { ServerError } from '../errors.js';
import type { LegRun, PreparedRequest, SequentialConnector } from './types.js';

/**
 * The prefill, then (only after its 2xx) the decode built from its answer: vLLM's P2P NCCL and
 * NIXL decodes must not start before the prefill has its KV. A prefill that fails stops the
 * request (its leg holds the error), so no decode ever waits for KV that will never come.
 *
 * @example
 * run: (request, legs) => runSequential(connector, request, legs),
 */
export async function runSequential(
  connector: SequentialConnector,
  request: PreparedRequest,
  legs: LegRun,
): Promise<ServerError | undefined> {
  legs.debug?.({ prefill: legs.prefill.url, body: request.prefill }, 'prefill request');
  const prefill = await legs.collect(request.prefill, connector.prefillAnswerLimitBytes).result;
  if (prefill.end !== 'ok') return undefined;
  const decode = connector.decodeBody(request, prefill.body, legs.prefill.address);
  if (!decode.ok) {
    if (decode.error.code === 'PD_ERR_PREFILL_BAD_ANSWER') legs.prefillBadAnswer();
    return decode.error;
  }
  const { body, recompute, remoteHostRewrite } = decode.value;
  if (recompute !== undefined) {
    // Never silent: a decode without KV recomputes the whole prompt (NIXL, docs/kv-connectors.md).
    legs.metrics.nixlRecompute(recompute.reason);
    if (recompute.reason === 'bad_answer') legs.prefillBadAnswer();
    legs.warn(
      { prefill: legs.prefill.url, reason: recompute.reason, detail: recompute.detail },
      'no usable kv_transfer_params from the prefill: the decode recomputes the prompt',
    );
  }
  if (remoteHostRewrite !== undefined) {
    legs.metrics.nixlRemoteHostRewrite();
    legs.debug?.({ ...remoteHostRewrite }, 'remote_host rewritten');
  }
  legs.debug?.({ decode: legs.decode.url, body }, 'decode request');
  await legs.relay(body).result;
  return undefined;
}
