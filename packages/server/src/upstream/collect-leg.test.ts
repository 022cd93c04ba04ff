import { parseWorkerUrl } from '@pd-router/core';
import type { Dispatcher } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { testRegistry } from '../../test/helpers.js';
import type { RouterMetrics } from '../metrics.js';
import type { Worker } from '../workers/worker.js';
import { CollectLeg } from './collect-leg.js';
import type { LegEnv } from './leg.js';
import type { PoolSet } from './pools.js';

function controller(): Dispatcher.DispatchController & { reasons: Error[] } {
  const reasons: Error[] = [];
  return {
    reasons,
    aborted: false,
    paused: false,
    reason: null,
    abort(reason: Error) {
      reasons.push(reason);
    },
    pause() {},
    resume() {},
  };
}

let pools: PoolSet;
afterEach(async () => {
  await pools.close();
});

/** A leg on a registered (never dialled) worker; `metrics` reads its error series. */
function setup(keepBytes = 0): { leg: () => CollectLeg; metrics: RouterMetrics; worker: Worker } {
  const kit = testRegistry();
  pools = kit.pools;
  const { registry, metrics } = kit;
  const parsed = parseWorkerUrl('http://127.0.0.1:1');
  if (!parsed.ok) throw parsed.error;
  const worker = registry.add({ role: 'prefill', spec: 'p', address: parsed.value });
  const env: LegEnv = {
    registry,
    debug: false,
    budgets: { collectMs: 1_000, firstByteMs: 1_000, idleMs: 1_000, stallMs: 1_000 },
  };
  const leg = () => {
    registry.acquire(worker);
    return new CollectLeg(env, { worker, path: '/v1/completions', requestId: 'id', body: '{}' }, keepBytes);
  };
  return { leg, metrics, worker };
}

describe('CollectLeg', () => {
  it('drains a 2xx answer without keeping it, and frees the worker', async () => {
    const { leg, worker } = setup();
    const call = leg();
    const c = controller();
    call.onRequestStart(c);
    call.onResponseStart(c, 200, {});
    call.onResponseData(c, Buffer.from('ignored'));
    call.onResponseEnd();
    expect(await call.result).toMatchObject({ end: 'ok', status: 200, body: undefined, failure: undefined });
    expect(worker.inFlight).toBe(0);
  });

  it('keeps at most the error limit of an error answer (its message), and all of a kept answer', async () => {
    const { leg } = setup(1_000);
    const error = leg();
    error.onResponseStart(undefined, 500, { 'content-type': 'text/plain' });
    error.onResponseData(undefined, Buffer.from('abc'));
    error.onResponseData(undefined, Buffer.from('def'));
    error.onResponseEnd();
    expect((await error.result).failure?.error.message).toBe('prefill worker #1 answered HTTP 500: abcdef');
    const kept = leg();
    kept.onResponseStart(undefined, 200, {});
    kept.onResponseData(undefined, Buffer.from('abcdef'));
    kept.onResponseEnd();
    expect((await kept.result).body?.toString()).toBe('abcdef');
  });

  it('settles at once on abort (nothing reported), and applies an abort made before undici handed over the request', async () => {
    const { leg, metrics } = setup();
    const call = leg();
    const reason = new Error('client left');
    call.abort(reason);
    expect(await call.result).toMatchObject({ end: 'aborted', failure: undefined });
    const c = controller();
    call.onRequestStart(c);
    expect(c.reasons).toEqual([reason]);
    // undici then reports the abort: ignored, the outcome is already decided.
    call.onResponseError(c, new Error('aborted'));
    expect(await metrics.registry.metrics()).not.toMatch(/pd_router_upstream_errors_total\{/);
  });

  it('fails on a transport error, classified once and counted against the worker', async () => {
    const { leg, metrics } = setup();
    const call = leg();
    call.onResponseError(undefined, Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    const { end, failure } = await call.result;
    expect([end, failure?.kind, failure?.error.code]).toEqual([
      'failed',
      'reset',
      'PD_ERR_PREFILL_UNAVAILABLE',
    ]);
    expect(await metrics.registry.metrics()).toMatch(
      /pd_router_upstream_errors_total\{[^}]*kind="reset"\} 1/,
    );
  });

  it('checks a drained event stream: an error event or no finish fails it', async () => {
    const { leg } = setup();
    const stream = (text: string) => {
      const call = leg();
      call.onResponseStart(undefined, 200, { 'content-type': 'text/event-stream' });
      for (const part of [text.slice(0, 7), text.slice(7)]) call.onResponseData(undefined, Buffer.from(part));
      call.onResponseEnd();
      return call.result;
    };
    const finished = await stream('data: {"choices":[{"finish_reason": "length"}]}\n\ndata: [DONE]\n\n');
    expect(finished.end).toBe('ok');
    const errored = await stream('data: {"error": {"message": "boom"}}\n\ndata: [DONE]\n\n');
    expect(errored.failure?.error.message).toBe('prefill worker #1 ended its stream with an error: boom');
    const cut = await stream('data: {"choices":[{"finish_reason":null}]}\n\n');
    expect([cut.failure?.kind, cut.failure?.error.code]).toEqual([
      'bad_response',
      'PD_ERR_PREFILL_STREAM_ERROR',
    ]);
  });
});
