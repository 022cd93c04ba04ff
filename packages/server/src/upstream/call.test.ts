import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { CollectCall } from './call.js';

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

describe('CollectCall', () => {
  it('drains a 2xx answer without keeping it', async () => {
    const call = new CollectCall(false, 10);
    const c = controller();
    call.onRequestStart(c);
    call.onResponseStart(c, 200, {});
    call.onResponseData(c, Buffer.from('ignored'));
    call.onResponseEnd();
    expect(await call.promise).toEqual({ status: 200, headers: {}, body: undefined });
  });

  it('keeps at most errorLimit bytes of an error answer, and all of a kept answer', async () => {
    const error = new CollectCall(false, 4);
    error.onResponseStart(undefined, 500, { 'content-type': 'text/plain' });
    error.onResponseData(undefined, Buffer.from('abc'));
    error.onResponseData(undefined, Buffer.from('def'));
    error.onResponseData(undefined, Buffer.from('ghi'));
    error.onResponseEnd();
    expect((await error.promise).body?.toString()).toBe('abcdef');
    const kept = new CollectCall(true, 4);
    kept.onResponseStart(undefined, 200, {});
    kept.onResponseData(undefined, Buffer.from('abcdef'));
    kept.onResponseEnd();
    expect((await kept.promise).body?.toString()).toBe('abcdef');
  });

  it('settles at once on abort, and applies an abort made before undici handed over the request', async () => {
    const call = new CollectCall(false, 10);
    const reason = new Error('client left');
    call.abort(reason);
    await expect(call.promise).rejects.toBe(reason);
    const c = controller();
    call.onRequestStart(c);
    expect(c.reasons).toEqual([reason]);
    // undici then reports the abort: ignored, the outcome is already decided.
    call.onResponseError(c, new Error('aborted'));
  });

  it('rejects on a transport error', async () => {
    const call = new CollectCall(false, 10);
    call.onResponseError(undefined, Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await expect(call.promise).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});
