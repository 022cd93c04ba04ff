import { parseWorkerUrl } from '@pd-router/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asLogger, CaptureLogger } from '../../test/helpers.js';
import { RouterMetrics } from '../metrics.js';
import { PoolSet } from '../upstream/pools.js';
import { DynamicWorkerMetrics } from '../workers/dynamic-metrics.js';
import { WorkerRegistry } from '../workers/registry.js';
import { CircuitBreaker } from './circuit-breaker.js';

const OPEN_MS = 1_000;

function setup() {
  const pools = new PoolSet({
    connections: 1,
    headersTimeoutMs: 1_000,
    bodyTimeoutMs: 1_000,
    connectTimeoutMs: 1_000,
  });
  const routerMetrics = new RouterMetrics({ prefill: 'round_robin', decode: 'round_robin' });
  const registry = new WorkerRegistry({
    pools,
    metrics: routerMetrics,
    authorization: 'Bearer x',
    userAgent: 'test',
  });
  const metrics = new DynamicWorkerMetrics(routerMetrics.registry, registry);
  const log = new CaptureLogger();
  const breaker = new CircuitBreaker({
    registry,
    failureThreshold: 3,
    openMs: OPEN_MS,
    metrics,
    log: asLogger(log),
  });
  registry.setOutcomeListener(breaker);
  const add = (port: number) => {
    const spec = `http://127.0.0.1:${port}`;
    const address = parseWorkerUrl(spec);
    if (!address.ok) throw address.error;
    return registry.add({ role: 'decode', spec, address: address.value });
  };
  return { pools, registry, breaker, log, routerMetrics, add };
}

let env: ReturnType<typeof setup>;
beforeEach(() => {
  vi.useFakeTimers();
  env = setup();
});
afterEach(async () => {
  env.breaker.stop();
  vi.useRealTimers();
  await env.pools.close();
});

describe('the circuit breaker', () => {
  it('opens after consecutive failures only; a success resets the streak', () => {
    const { registry, add } = env;
    const w = add(1);
    registry.reportFailure(w, 'connect');
    registry.reportFailure(w, 'status');
    registry.reportSuccess(w);
    registry.reportFailure(w, 'reset');
    registry.reportFailure(w, 'reset');
    expect(w.circuit).toBe('closed');
    expect(registry.available('decode')).toEqual([w]);
    registry.reportFailure(w, 'timeout');
    expect(w.circuit).toBe('open');
    expect(w.healthy).toBe(false);
    expect(registry.available('decode')).toEqual([]);
    expect(env.log.entries.find((e) => e.level === 'warn')?.msg).toBe(
      'circuit opened: 3 consecutive failed requests (last: timeout)',
    );
  });

  it('turns half-open after openMs and lets exactly one probe through; its success closes', () => {
    const { registry, add } = env;
    const w = add(1);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS - 1);
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(1);
    expect(w.circuit).toBe('half_open');
    expect(registry.available('decode')).toEqual([w]);
    registry.acquire(w);
    // The probe is out: no second request may pick the worker.
    expect(registry.available('decode')).toEqual([]);
    registry.reportSuccess(w);
    registry.release(w);
    expect(w.circuit).toBe('closed');
    expect(registry.available('decode')).toEqual([w]);
  });

  it('reopens when the probe fails, and re-offers the probe when it ends without a verdict', () => {
    const { registry, add } = env;
    const w = add(1);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS);
    registry.acquire(w);
    registry.release(w); // e.g. the client left before the worker was called
    expect(w.circuit).toBe('half_open');
    expect(registry.available('decode')).toEqual([w]);
    registry.acquire(w);
    registry.reportFailure(w, 'status');
    registry.release(w);
    expect(w.circuit).toBe('open');
    expect(registry.available('decode')).toEqual([]);
    vi.advanceTimersByTime(OPEN_MS);
    expect(w.circuit).toBe('half_open');
  });

  it('takes a health check as the half-open probe', () => {
    const { registry, breaker, add } = env;
    const w = add(1);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    breaker.probeResult(w, true); // open: checks do not shorten the wait
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(OPEN_MS);
    breaker.probeResult(w, false);
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(OPEN_MS);
    breaker.probeResult(w, true);
    expect(w.circuit).toBe('closed');
  });

  it('keeps the active-check verdict separate, ignores removed workers, and exports the state gauge', async () => {
    const { registry, add, routerMetrics } = env;
    const w = add(1);
    const other = add(2);
    registry.setHealthy(w.id, false);
    for (let i = 0; i < 3; i++) registry.reportFailure(other, 'connect');
    const text = await routerMetrics.registry.metrics();
    expect(text).toContain(`pd_router_worker_circuit_state{role="decode",worker="${other.url}"} 2`);
    expect(text).toContain(`pd_router_worker_circuit_state{role="decode",worker="${w.url}"} 0`);
    expect(text).toContain('pd_router_circuit_transitions_total{role="decode",to="open"} 1');
    vi.advanceTimersByTime(OPEN_MS);
    registry.reportSuccess(other);
    expect(other.circuit).toBe('closed');
    // Closed circuit, but the active checks still say no.
    expect(registry.available('decode')).toEqual([other]);
    registry.setHealthy(w.id, true);
    expect(registry.available('decode')).toEqual([w, other]);
    registry.remove(other.id);
    for (let i = 0; i < 5; i++) registry.reportFailure(other, 'connect');
    expect(other.circuit).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});
