import { randomUUID } from 'node:crypto';
import {
  type CompletionRequest,
  type CompletionRoute,
  type RequestProblem,
  validateCompletionRequest,
} from './completion-request.js';
import { type GenerationPlan, planGeneration } from './generation-plan.js';
import { JSON_CONTENT_TYPE } from './http-io.js';
import { parseRequestBody } from './request-body.js';

/** The instance settings that decide whether a completion request is admitted, and its plan. */
export interface IntakeOptions {
  readonly model: string;
  readonly strictModel: boolean;
  readonly defaultMaxTokens: number;
  readonly maxModelLen: number;
  /** Count prompt tokens as whitespace-separated words (the performance model's tokenization). */
  readonly wordTokens?: boolean;
}

/** A completion request as it arrived, independent of the transport (node:http or a fetch Request). */
export interface IntakeMessage {
  /** The Content-Type header, undefined when absent. */
  readonly contentType: string | undefined;
  /** The X-Request-Id header, undefined when absent. */
  readonly requestId: string | undefined;
  readonly body: Uint8Array;
}

export interface Admitted {
  readonly request: CompletionRequest;
  readonly plan: GenerationPlan;
}

export type IntakeOutcome =
  | { readonly ok: true; readonly value: Admitted }
  | { readonly ok: false; readonly error: RequestProblem };

/**
 * vLLM's checks of a completion request, in its order: media type, JSON, request schema, model name
 * (when strict), then the plan (ids, context length). One code path for the HTTP server and the msw
 * handlers, so both refuse the same requests with the same status and message.
 *
 * @example
 * const r = admitCompletion(options, 'chat', { contentType: 'text/plain', requestId: undefined, body });
 * // r.error: { status: 400, message: "Unsupported Media Type: Only 'application/json' is allowed", param: null }
 */
export function admitCompletion(
  o: IntakeOptions,
  route: CompletionRoute,
  message: IntakeMessage,
): IntakeOutcome {
  const mediaType = (message.contentType ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== JSON_CONTENT_TYPE) {
    return refuse(400, "Unsupported Media Type: Only 'application/json' is allowed");
  }
  const json = parseRequestBody(message.body);
  if (json === undefined) return refuse(400, '1 validation error: body: JSON decode error');
  const validated = validateCompletionRequest(route, json, o.wordTokens === true);
  if (!validated.ok) return validated;
  const request = validated.value;
  if (o.strictModel && request.model !== undefined && request.model !== o.model) {
    return refuse(404, `The model \`${request.model}\` does not exist.`, 'model');
  }
  const planned = planGeneration(request, {
    // vLLM's _base_request_id: the header wins, then the body's request_id, then a random uuid4 hex.
    baseId: message.requestId ?? request.bodyRequestId ?? randomUUID().replaceAll('-', ''),
    model: o.model,
    defaultMaxTokens: o.defaultMaxTokens,
    maxModelLen: o.maxModelLen,
    nowSeconds: Math.floor(Date.now() / 1000),
  });
  if (!planned.ok) return planned;
  return { ok: true, value: { request, plan: planned.value } };
}

function refuse(status: number, message: string, param: string | null = null): IntakeOutcome {
  return { ok: false, error: { status, message, param } };
}
