import { parseWorkerUrl } from '@pd-router/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { asLogger, CaptureLogger, testRegistry } from '../../test/helpers.js';
import { DynamicWorkerMetrics } from '../workers/dynamic-metrics.js';
import { type CircuitRules, DEFAULT_CHECK_RULES } from './worker-health.js';

const OPEN_MS = 1_000;

function setup(circuit: Partial<CircuitRules> = {}) {
  const { pools, registry, metrics: routerMetrics } = testRegistry();
  const metrics = new DynamicWorkerMetrics(routerMetrics.registry, registry);
  const log = new CaptureLogger();
  registry.configureHealth({
    circuit: {
      failureThreshold: 3,
      successThreshold: 1,
      openMs: OPEN_MS,
      windowMs: Number.POSITIVE_INFINITY,
      ...circuit,
    },
    checks: DEFAULT_CHECK_RULES,
    events: metrics,
    log: asLogger(log),
  });
  const add = (port: number) => {
    const spec = `http://127.0.0.1:${port}`;
    const address = parseWorkerUrl(spec);
    if (!address.ok) throw address.error;
    return registry.add({ role: 'decode', spec, address: address.value });
  };
  // Every registered worker is a decode: a second role keeps the single-decode pool out of panic
  // mode unless a test wants it (see keepOne).
  return { pools, registry, log, routerMetrics, add };
}

let env: ReturnType<typeof setup>;
/** Replaces beforeEach's setup with other circuit rules. */
async function reconfigure(circuit: Partial<CircuitRules>): Promise<void> {
  env.registry.stopHealth();
  await env.pools.close();
  env = setup(circuit);
}
beforeEach(() => {
  vi.useFakeTimers();
  env = setup();
});
afterEach(async () => {
  env.registry.stopHealth();
  vi.useRealTimers();
  await env.pools.close();
});

describe('the circuit breaker', () => {
  it('opens after consecutive failures only; a success resets the streak', () => {
    const { registry, add } = env;
    const w = add(1);
    // A healthy second decode: the pool never empties, so no panic mode here (tested below).
    const keep = add(9);
    registry.reportFailure(w, 'connect');
    registry.reportFailure(w, 'status');
    registry.reportSuccess(w);
    registry.reportFailure(w, 'reset');
    registry.reportFailure(w, 'reset');
    expect(w.circuit).toBe('closed');
    expect(registry.available('decode')).toEqual([w, keep]);
    registry.reportFailure(w, 'timeout');
    expect(w.circuit).toBe('open');
    expect(w.healthy).toBe(false);
    expect(registry.available('decode')).toEqual([keep]);
    expect(env.log.entries.find((e) => e.level === 'warn')?.msg).toBe(
      'circuit opened: 3 consecutive failed requests (last: timeout)',
    );
  });

  it('turns half-open after openMs and lets exactly one probe through; its success closes', () => {
    const { registry, add } = env;
    const w = add(1);
    // A healthy second decode: the pool never empties, so no panic mode here (tested below).
    const keep = add(9);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS - 1);
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(1);
    expect(w.circuit).toBe('half_open');
    expect(registry.available('decode')).toEqual([w, keep]);
    registry.acquire(w);
    // The probe is out: no second request may pick the worker.
    expect(registry.available('decode')).toEqual([keep]);
    registry.reportSuccess(w);
    registry.release(w);
    expect(w.circuit).toBe('closed');
    expect(registry.available('decode')).toEqual([w, keep]);
  });

  it('reopens when the probe fails, and re-offers the probe when it ends without a verdict', () => {
    const { registry, add } = env;
    const w = add(1);
    // A healthy second decode: the pool never empties, so no panic mode here (tested below).
    const keep = add(9);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS);
    registry.acquire(w);
    registry.release(w); // e.g. the client left before the worker was called
    expect(w.circuit).toBe('half_open');
    expect(registry.available('decode')).toEqual([w, keep]);
    registry.acquire(w);
    registry.reportFailure(w, 'status');
    registry.release(w);
    expect(w.circuit).toBe('open');
    expect(registry.available('decode')).toEqual([keep]);
    vi.advanceTimersByTime(OPEN_MS);
    expect(w.circuit).toBe('half_open');
  });

  it('takes a health check as the half-open probe', () => {
    const { registry, add } = env;
    const w = add(1);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    registry.checkResult(w, true); // open: checks do not shorten the wait
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(OPEN_MS);
    registry.checkResult(w, false);
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(OPEN_MS);
    registry.checkResult(w, true);
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

  it('counts a failure in the upstream-error metric as it feeds the circuit', async () => {
    const { registry, add, routerMetrics } = env;
    const w = add(1);
    add(9);
    registry.reportFailure(w, 'connect');
    registry.reportFailure(w, 'connect');
    registry.reportFailure(w, 'status');
    const text = await routerMetrics.registry.metrics();
    expect(text).toContain(
      `pd_router_upstream_errors_total{role="decode",worker="${w.url}",kind="connect"} 2`,
    );
    expect(text).toContain(
      `pd_router_upstream_errors_total{role="decode",worker="${w.url}",kind="status"} 1`,
    );
    expect(w.circuit).toBe('open');
  });
});

describe('the failure window', () => {
  it('opens only when the threshold of consecutive failures falls within the window', async () => {
    await reconfigure({ windowMs: 10_000 });
    const { registry, add } = env;
    const w = add(1);
    add(9);
    registry.reportFailure(w, 'connect');
    registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(10_001);
    // The first two are older than the window: three in a row, but only one within it.
    registry.reportFailure(w, 'connect');
    expect(w.circuit).toBe('closed');
    expect(w.health.failureStreak).toBe(3);
    vi.advanceTimersByTime(5_000);
    registry.reportFailure(w, 'connect');
    expect(w.circuit).toBe('closed');
    registry.reportFailure(w, 'timeout');
    expect(w.circuit).toBe('open');
    expect(env.log.entries.find((e) => e.level === 'warn')?.msg).toBe(
      'circuit opened: 3 consecutive failed requests within 10 s (last: timeout)',
    );
  });
});

describe('the success threshold', () => {
  it('needs that many good probes, one at a time, to close a half-open circuit', async () => {
    await reconfigure({ successThreshold: 3 });
    const { registry, add } = env;
    const w = add(1);
    const keep = add(9);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS);
    for (let probe = 1; probe <= 2; probe++) {
      registry.acquire(w);
      expect(registry.available('decode')).toEqual([keep]);
      registry.reportSuccess(w);
      registry.release(w);
      expect(w.circuit).toBe('half_open');
      expect(registry.available('decode')).toEqual([w, keep]);
    }
    // A health check is a probe too: the third good probe closes.
    registry.checkResult(w, true);
    expect(w.circuit).toBe('closed');
    expect(env.log.entries.at(-1)?.msg).toBe('circuit closed: 3 health checks succeeded');
  });

  it('reopens on a failed probe and counts the probes again from zero', async () => {
    await reconfigure({ successThreshold: 2 });
    const { registry, add } = env;
    const w = add(1);
    add(9);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    vi.advanceTimersByTime(OPEN_MS);
    registry.reportSuccess(w);
    registry.reportFailure(w, 'status');
    expect(w.circuit).toBe('open');
    vi.advanceTimersByTime(OPEN_MS);
    registry.reportSuccess(w);
    expect(w.circuit).toBe('half_open');
    registry.reportSuccess(w);
    expect(w.circuit).toBe('closed');
  });
});

describe('panic mode', () => {
  it('keeps the only worker routable when its circuit opens, with a metric and a log line', async () => {
    const { registry, add, routerMetrics } = env;
    const w = add(1);
    for (let i = 0; i < 3; i++) registry.reportFailure(w, 'connect');
    expect(w.circuit).toBe('open');
    expect(w.available).toBe(false);
    expect(registry.panicking('decode')).toBe(true);
    expect(registry.available('decode')).toEqual([w]);
    const text = await routerMetrics.registry.metrics();
    expect(text).toContain('pd_router_pool_panics_total{role="decode"} 1');
    expect(text).toContain('pd_router_pool_panic{role="decode"} 1');
    expect(text).toContain('pd_router_pool_panic{role="prefill"} 0');
    const warning = env.log.entries.filter((e) => e.level === 'warn').at(-1);
    expect(warning?.msg).toBe(
      "panic mode: every decode worker's circuit is open; routing to the least-failing ones instead of emptying the pool",
    );
    // The circuit still runs its course: half-open, one probe, closed; panic ends with it.
    vi.advanceTimersByTime(OPEN_MS);
    expect(w.circuit).toBe('half_open');
    expect(registry.panicking('decode')).toBe(false);
    registry.reportSuccess(w);
    expect(w.circuit).toBe('closed');
    expect(registry.available('decode')).toEqual([w]);
    expect(env.log.entries.some((e) => e.msg === 'panic mode over for the decode pool')).toBe(true);
  });

  it('routes to the least-failing workers, following their streaks', () => {
    const { registry, add } = env;
    const a = add(1);
    const b = add(2);
    for (let i = 0; i < 3; i++) registry.reportFailure(a, 'connect');
    expect(registry.available('decode')).toEqual([b]);
    for (let i = 0; i < 4; i++) registry.reportFailure(b, 'connect');
    expect(registry.panicking('decode')).toBe(true);
    expect(registry.available('decode')).toEqual([a]);
    // Still open, but a success resets b's streak: b is now the least failing.
    registry.reportSuccess(b);
    expect(b.circuit).toBe('open');
    expect(registry.available('decode')).toEqual([b]);
    registry.reportSuccess(a);
    expect(registry.available('decode')).toEqual([a, b]);
  });

  it('never overrides the active checks or draining: only the breaker is', () => {
    const { registry, add } = env;
    const a = add(1);
    const b = add(2);
    registry.setHealthy(a.id, false);
    for (let i = 0; i < 3; i++) registry.reportFailure(b, 'connect');
    expect(registry.available('decode')).toEqual([b]);
    registry.drain(b.id);
    expect(registry.available('decode')).toEqual([]);
    expect(registry.panicking('decode')).toBe(false);
  });
});
