import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRequestId } from '@pd-router/core';
import { admitCompletion } from './completion-intake.js';
import type { CompletionRequest, CompletionRoute } from './completion-request.js';
import { vllmErrorBody } from './error-body.js';
import type { RawAnswer, RequestFaults } from './fault-book.js';
import type { GenerationPlan } from './generation-plan.js';
import { JSON_CONTENT_TYPE, SSE_CONTENT_TYPE, sendBody, sendJson, sleep, untilAborted } from './http-io.js';
import type { MockContext } from './mock-context.js';
import { dataParallelRank, mooncakeDecodeTransfer, settleMooncakePrefill } from './mooncake-connector.js';
import { nixlDecodeTransfer, nixlPrefillPlan, settlePrefill } from './nixl-connector.js';
import { renderJsonBody } from './openai-responses.js';
import { generateWithPerf } from './perf/perf-generate.js';
import type { ReceivedRequest } from './received-request.js';
import type { JsonValue } from './request-body.js';
import { writeSseError, writeStream } from './stream-writer.js';

/** The first header value, or undefined. */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Serves POST /v1/completions and /v1/chat/completions: validation, the KV hand-off (P2P NCCL or
 * NIXL), queueing, timing, and the JSON or SSE answer, with the request's faults applied. `entry` is
 * the request's record in `received` (its `nixl` field is filled in here).
 */
export async function handleCompletion(
  ctx: MockContext,
  route: CompletionRoute,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  faults: RequestFaults,
  signal: AbortSignal,
  entry: ReceivedRequest,
): Promise<void> {
  const { options: o, metrics } = ctx;
  const fail = (status: number, message: string, param: string | null = null): void => {
    metrics.requestErrors += 1;
    sendJson(res, status, vllmErrorBody(status, message, param));
  };

  if (faults.body !== undefined) {
    sendRawAnswer(ctx, res, faults.body);
    return;
  }
  const admitted = admitCompletion(o, route, {
    contentType: header(req, 'content-type'),
    requestId: header(req, 'x-request-id'),
    body,
  });
  if (!admitted.ok) {
    fail(admitted.error.status, admitted.error.message, admitted.error.param);
    return;
  }
  const { request } = admitted.value;
  const nixl = o.kvHandoff ? ctx.nixl : undefined;
  const mooncake = o.kvHandoff ? ctx.mooncake : undefined;
  let rank = 0;
  if (mooncake !== undefined) {
    const r = dataParallelRank(header(req, 'x-data-parallel-rank'), mooncake.engineIds.length);
    if (!r.ok) {
      fail(400, r.message);
      return;
    }
    rank = r.rank;
  }
  const plan =
    nixl !== undefined && o.role === 'prefill'
      ? nixlPrefillPlan(admitted.value.plan, request, faults)
      : admitted.value.plan;

  // P2P NCCL: the addresses live in the id (parse_request_id searches the engine id, which contains
  // the header value). A missing address is a ValueError in vLLM's worker: the request fails.
  // NIXL and Mooncake ignore the id: everything they need travels in kv_transfer_params.
  let decodePeer: string | undefined;
  if (o.kvHandoff && nixl === undefined && mooncake === undefined) {
    const addresses = parseRequestId(plan.id);
    const needed = o.role === 'prefill' ? addresses.decode : addresses.prefill;
    if (needed === undefined) {
      metrics.kvErrors += 1;
      fail(500, `Request id ${plan.id} does not contain hostname and port`);
      return;
    }
    if (o.role === 'prefill') decodePeer = needed.text;
  }
  const engineIds = engineRequestIds(plan, ctx.options.requestIdRandomization);

  ctx.inflight += 1;
  try {
    if (plan.stream) {
      // Starlette sends a StreamingResponse's headers before its first chunk: before the KV wait.
      res.writeHead(200, { 'content-type': SSE_CONTENT_TYPE });
      res.flushHeaders();
    }
    let kvLoaded = false;
    if (nixl !== undefined && o.role === 'decode') {
      const transfer = await nixlDecodeTransfer(nixl, metrics, request.kvTransferParams, signal);
      if (transfer === 'aborted') return;
      entry.nixl = transfer.record;
      kvLoaded = transfer.loaded;
    } else if (mooncake !== undefined && o.role === 'decode') {
      const transfer = await mooncakeDecodeTransfer(mooncake, metrics, request.kvTransferParams, signal);
      if (transfer === 'aborted') return;
      entry.mooncake = transfer.record;
      if (transfer.failed) {
        if (o.kvMode === 'hang') {
          // vLLM's decode logs the failure and never finishes the request: it waits for the client to leave.
          mooncake.pulling += 1;
          await untilAborted(signal);
          mooncake.pulling -= 1;
          return;
        }
        metrics.requestErrors += 1;
        const message = `KV transfer ${transfer.record.transferId ?? ''} failed: ${transfer.record.reason ?? ''}`;
        if (plan.stream) writeSseError(res, 500, message);
        else sendJson(res, 500, vllmErrorBody(500, message));
        return;
      }
      kvLoaded = transfer.loaded;
    } else if (o.kvHandoff && o.role === 'decode') {
      kvLoaded = true;
      const timeout = o.kvMode === 'hang' ? Number.POSITIVE_INFINITY : o.kvWaitTimeoutMs;
      for (const id of engineIds) {
        const result = await ctx.inbox.wait(id, timeout, signal);
        if (result === 'aborted') return;
        if (result === 'timeout') {
          metrics.kvWaitTimeouts += 1;
          metrics.requestErrors += 1;
          const message = `KV cache for request ${id} did not arrive within ${o.kvWaitTimeoutMs} ms`;
          if (plan.stream) writeSseError(res, 500, message);
          else sendJson(res, 500, vllmErrorBody(500, message));
          return;
        }
      }
    }
    if (ctx.perf !== undefined) {
      const finish =
        nixl !== undefined && o.role === 'prefill'
          ? prefillFinisher(ctx, request, plan, engineIds, faults, entry)
          : undefined;
      await generateWithPerf(
        ctx.perf,
        metrics,
        plan,
        { afterPrefill: p2pPush(ctx, decodePeer, engineIds, faults), finish, remotePrefill: kvLoaded },
        res,
        signal,
      );
      return;
    }
    const slot = await ctx.scheduler.acquire(signal);
    if (slot === 'aborted') return;
    if (slot === 'queue-full') {
      metrics.requestErrors += 1;
      const message = 'The server is overloaded: the waiting queue is full.';
      if (plan.stream) writeSseError(res, 503, message);
      else sendJson(res, 503, vllmErrorBody(503, message));
      return;
    }
    try {
      const finish =
        nixl !== undefined && o.role === 'prefill'
          ? prefillFinisher(ctx, request, plan, engineIds, faults, entry)
          : mooncake !== undefined && o.role === 'prefill'
            ? () => {
                entry.mooncake = settleMooncakePrefill(mooncake, request, plan, rank, faults);
                return null;
              }
            : undefined;
      await generate(ctx, plan, engineIds, { decodePeer, kvLoaded, finish }, res, faults, signal);
    } finally {
      ctx.scheduler.release();
    }
  } finally {
    ctx.inflight -= 1;
  }
}

/**
 * A `body` fault: the exact status, type and bytes, before any validation or KV work, as a broken
 * proxy answers whatever was asked. 204 and 304 carry no body (a Content-Length would lie).
 */
function sendRawAnswer(ctx: MockContext, res: ServerResponse, answer: RawAnswer): void {
  if (answer.status >= 400) ctx.metrics.requestErrors += 1;
  const type = answer.contentType === '' ? undefined : answer.contentType;
  if (answer.status === 204 || answer.status === 304) {
    res.writeHead(answer.status, type === undefined ? {} : { 'content-type': type });
    res.end();
    return;
  }
  sendBody(res, answer.status, type, answer.body);
}

/**
 * The engine request ids vLLM derives: `chatcmpl-{base}` for chat, `cmpl-{base}-{i}` per prompt for
 * completions, plus 8 random hex chars per instance when randomization is emulated.
 */
export function engineRequestIds(plan: GenerationPlan, randomize: boolean): string[] {
  const prompts = new Set(plan.choices.map((c) => c.prompt));
  const ids = plan.route === 'chat' ? [plan.id] : [...prompts].map((_, i) => `${plan.id}-${i}`);
  return randomize ? ids.map((id) => `${id}-${randomBytes(4).toString('hex')}`) : ids;
}

/**
 * A NIXL prefill's end of request: settles the blocks (held, or not) and gives the answer's
 * `kv_transfer_params`. On a stream vLLM holds the blocks too, but the params reach no one.
 */
function prefillFinisher(
  ctx: MockContext,
  request: CompletionRequest,
  plan: GenerationPlan,
  engineIds: readonly string[],
  faults: RequestFaults,
  entry: ReceivedRequest,
): () => JsonObject | null {
  return () => {
    if (ctx.nixl === undefined) return null;
    const settled = settlePrefill(ctx.nixl, request, plan, engineIds, faults);
    entry.nixl = settled.record;
    return settled.params;
  };
}

type JsonObject = { [key: string]: JsonValue };

interface KvRole {
  /** P2P NCCL prefill: the decode's KV address to push the notice to. */
  readonly decodePeer: string | undefined;
  /** Decode: the KV came from a prefill, so only the load cost is paid, not the prefill. */
  readonly kvLoaded: boolean;
  /** NIXL prefill: settles the blocks when the request finishes; returns the answer's params. */
  readonly finish: (() => JsonObject | null) | undefined;
}

async function generate(
  ctx: MockContext,
  plan: GenerationPlan,
  engineIds: readonly string[],
  kv: KvRole,
  res: ServerResponse,
  faults: RequestFaults,
  signal: AbortSignal,
): Promise<void> {
  const { options: o, metrics } = ctx;
  const t = o.timing;
  const ttft =
    t.ttftBaseMs + plan.promptTokens * (kv.kvLoaded ? t.kvLoadPerPromptTokenMs : t.ttftPerPromptTokenMs);
  if (!(await sleep(ttft, signal))) return;
  metrics.promptTokens += plan.promptTokens;
  await p2pPush(ctx, kv.decodePeer, engineIds, faults)?.();
  if (plan.stream) {
    const outcome = await writeStream(res, plan, t.interTokenMs, faults, signal);
    if (outcome !== 'done') return;
    // Still in the tick that ended the stream: held before the client can react to [DONE].
    kv.finish?.();
  } else {
    if (!(await sleep(t.interTokenMs * Math.max(plan.tokens - 1, 0), signal))) return;
    if (faults.stall !== undefined && !(await sleep(faults.stall.ms, signal))) return;
    const text = renderJsonBody(plan, kv.finish?.() ?? null);
    if (faults.resetAfterEvents !== undefined) {
      resetJson(res, text, faults.resetAfterEvents);
      return;
    }
    res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
  metrics.countFinished(plan);
}

/** P2P NCCL prefill: pushes the KV notice to the decode (P pushes while it prefills, before its answer). */
function p2pPush(
  ctx: MockContext,
  decodePeer: string | undefined,
  engineIds: readonly string[],
  faults: RequestFaults,
): (() => Promise<void>) | undefined {
  const kv = ctx.kv;
  if (decodePeer === undefined || faults.kvNeverArrives === true || kv === undefined) return undefined;
  return async () => {
    for (const id of engineIds) {
      if (await kv.send(decodePeer, id)) ctx.metrics.kvSent += 1;
      else ctx.metrics.kvErrors += 1;
    }
  };
}

/** reset-after on a JSON answer: 0 = reset before any byte; N > 0 = headers and half the body, then reset. */
function resetJson(res: ServerResponse, text: string, events: number): void {
  if (events === 0) {
    res.socket?.resetAndDestroy();
    return;
  }
  const bytes = Buffer.from(text);
  res.writeHead(200, { 'content-type': JSON_CONTENT_TYPE, 'content-length': bytes.length });
  res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.resetAndDestroy());
}
