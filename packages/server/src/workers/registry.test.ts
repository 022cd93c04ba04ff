import { parseWorkerUrl } from '@pd-router/core';
import { afterEach, describe, expect, it } from 'vitest';
import { testRegistry } from '../../test/helpers.js';
import { DEFAULT_CHECK_RULES } from '../health/worker-health.js';
import type { PoolSet } from '../upstream/pools.js';
import type { WorkerRegistry } from './registry.js';

function address(spec: string) {
  const parsed = parseWorkerUrl(spec);
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

let pools: PoolSet;
afterEach(async () => {
  await pools.close();
});

function registry(): WorkerRegistry {
  const kit = testRegistry(4);
  pools = kit.pools;
  const { registry: r, metrics } = kit;
  metrics.setWorkerSource(r);
  return r;
}

describe('WorkerRegistry', () => {
  it('keeps registration order, numbers workers per role and builds their header lists once', () => {
    const r = registry();
    const p1 = r.add({
      role: 'prefill',
      spec: 'a',
      address: address('http://127.0.0.1:1001:zmq://127.0.0.1:2001'),
    });
    const d1 = r.add({ role: 'decode', spec: 'b', address: address('http://127.0.0.1:1002') });
    const p2 = r.add({ role: 'prefill', spec: 'c', address: address('http://127.0.0.1:1003') });
    expect(r.list()).toEqual([p1, d1, p2]);
    expect([p1.label, p2.label, d1.label]).toEqual([
      'prefill worker #1',
      'prefill worker #2',
      'decode worker #1',
    ]);
    expect(p1.id).toBe('prefill:http://127.0.0.1:1001');
    expect(p1.headers.list.slice(0, 4)).toEqual(['Host', '127.0.0.1:1001', 'Authorization', 'Bearer None']);
    expect(r.available('prefill')).toEqual([p1, p2]);
    expect(r.add({ role: 'prefill', spec: 'a', address: address('http://127.0.0.1:1001') })).toBe(p1);
  });

  it('takes unhealthy and draining workers out of rotation, and returns a cached array otherwise', () => {
    const r = registry();
    const p1 = r.add({ role: 'prefill', spec: 'a', address: address('http://127.0.0.1:1001') });
    const p2 = r.add({ role: 'prefill', spec: 'b', address: address('http://127.0.0.1:1002') });
    const events: string[] = [];
    r.onChange((event, w) => events.push(`${event} ${w.ordinal}`));
    const before = r.available('prefill');
    expect(r.available('prefill')).toBe(before);
    r.setHealthy(p1.id, false);
    expect(r.available('prefill')).toEqual([p2]);
    r.drain(p2.id);
    expect(r.available('prefill')).toEqual([]);
    r.setHealthy(p1.id, true);
    r.drain(p2.id, false);
    expect(r.available('prefill')).toEqual([p1, p2]);
    expect(events).toEqual(['changed 1', 'changed 2', 'changed 1', 'changed 2']);
  });

  it('resolves a policy view back to the worker', () => {
    const r = registry();
    const p1 = r.add({ role: 'prefill', spec: 'a', address: address('http://127.0.0.1:1001') });
    expect(r.resolve(p1)).toBe(p1);
    expect(r.resolve({ id: p1.id, role: 'prefill', url: p1.url, inFlight: 0 })).toBe(p1);
    expect(() => r.resolve({ id: 'x', role: 'prefill', url: 'x', inFlight: 0 })).toThrow();
  });

  it('removes a worker at once from rotation; in-flight requests keep it until they end', () => {
    const r = registry();
    const d1 = r.add({ role: 'decode', spec: 'a', address: address('http://127.0.0.1:1001') });
    r.acquire(d1);
    expect(d1.inFlight).toBe(1);
    expect(r.remove(d1.id)).toBe(true);
    expect(r.available('decode')).toEqual([]);
    expect(r.list()).toEqual([]);
    expect(d1.removed).toBe(true);
    r.release(d1);
    expect(d1.inFlight).toBe(0);
    expect(r.remove(d1.id)).toBe(false);
    // A worker added again gets a new ordinal: numbers are never reused.
    expect(r.add({ role: 'decode', spec: 'a', address: address('http://127.0.0.1:1001') }).ordinal).toBe(2);
  });

  it('revives a removed worker that rejoins at the same address while its requests still run', () => {
    const r = registry();
    const spec = 'http://127.0.0.1:1001:zmq://127.0.0.1:2001';
    const d1 = r.add({ role: 'decode', spec, address: address(spec) });
    r.configureHealth({
      circuit: { failureThreshold: 1, successThreshold: 1, openMs: 60_000, windowMs: 60_000 },
      checks: DEFAULT_CHECK_RULES,
      events: { circuitTransition() {}, healthTransition() {}, healthCheck() {}, poolPanic() {} },
    });
    r.acquire(d1);
    r.acquire(d1);
    // It leaves with an open circuit (its timer is dropped with it) and draining.
    r.reportFailure(d1, 'connect');
    expect(d1.circuit).toBe('open');
    r.drain(d1.id);
    r.remove(d1.id);
    const back = r.add({ role: 'decode', spec, address: address(spec) });
    // The same worker: its two running requests still count toward its load; health starts over.
    expect(back).toBe(d1);
    expect(back.circuit).toBe('closed');
    expect(back.healthy).toBe(true);
    expect(back.draining).toBe(false);
    expect(back.health.failureStreak).toBe(0);
    expect(back.inFlight).toBe(2);
    expect(back.removed).toBe(false);
    expect(r.available('decode')).toEqual([d1]);
    r.release(d1);
    r.release(d1);
    expect(r.list()).toEqual([d1]);

    // Another KV address under the same URL is another worker, with a load of its own.
    r.acquire(d1);
    r.remove(d1.id);
    const moved = 'http://127.0.0.1:1001:zmq://127.0.0.1:2002';
    const other = r.add({ role: 'decode', spec: moved, address: address(moved) });
    expect(other).not.toBe(d1);
    expect(other.inFlight).toBe(0);
    r.release(d1);
    expect(r.list()).toEqual([other]);
  });
});
