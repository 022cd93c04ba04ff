import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Admission, type AdmissionOptions } from './admission.js';

let clock = 0;
const now = (): number => clock;

function admission(options: Partial<AdmissionOptions> = {}): Admission {
  return new Admission({
    maxConcurrent: 2,
    queueSize: 2,
    queueTimeoutMs: 1_000,
    tokensPerSecond: Number.POSITIVE_INFINITY,
    now,
    ...options,
  });
}

beforeEach(() => {
  clock = 0;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Admission', () => {
  it('admits up to the cap, then queues in order, then refuses', () => {
    const a = admission();
    expect(a.tryEnter()).toBe(true);
    expect(a.tryEnter()).toBe(true);
    expect(a.tryEnter()).toBe(false);
    const order: string[] = [];
    expect(
      a.wait(
        () => order.push('first'),
        () => order.push('first expired'),
      ),
    ).toBeDefined();
    expect(
      a.wait(
        () => order.push('second'),
        () => order.push('second expired'),
      ),
    ).toBeDefined();
    expect(
      a.wait(
        () => order.push('third'),
        () => order.push('third expired'),
      ),
    ).toBeUndefined();
    expect(a.queued).toBe(2);
    a.leave();
    expect(order).toEqual(['first']);
    a.leave();
    expect(order).toEqual(['first', 'second']);
    expect(a.inFlight).toBe(2);
    expect(a.queued).toBe(0);
  });

  it('keeps FIFO: a newcomer does not pass the queue even when a place just freed', () => {
    const a = admission({ maxConcurrent: 1 });
    expect(a.tryEnter()).toBe(true);
    const admitted: number[] = [];
    a.wait(
      () => admitted.push(1),
      () => {},
    );
    a.leave();
    expect(admitted).toEqual([1]);
    expect(a.tryEnter()).toBe(false);
  });

  it('expires a request that waited past the timeout, and reports how long admitted ones waited', () => {
    const a = admission({ maxConcurrent: 1 });
    a.tryEnter();
    const events: string[] = [];
    a.wait(
      () => events.push('admitted'),
      () => events.push('expired'),
    );
    vi.advanceTimersByTime(999);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['expired']);
    expect(a.queued).toBe(0);
    let waited = -1;
    a.wait(
      (ms) => {
        waited = ms;
      },
      () => {},
    );
    clock += 250;
    a.leave();
    expect(waited).toBe(250);
    vi.advanceTimersByTime(5_000);
    expect(events).toEqual(['expired']);
  });

  it('frees the place of a cancelled waiter, wherever it sits in the queue', () => {
    const a = admission({ maxConcurrent: 1, queueSize: 3 });
    a.tryEnter();
    const admitted: string[] = [];
    const w1 = a.wait(
      () => admitted.push('1'),
      () => {},
    );
    const w2 = a.wait(
      () => admitted.push('2'),
      () => {},
    );
    a.wait(
      () => admitted.push('3'),
      () => {},
    );
    if (w1 === undefined || w2 === undefined) throw new Error('queued');
    a.cancel(w2);
    a.cancel(w2);
    expect(a.queued).toBe(2);
    expect(
      a.wait(
        () => admitted.push('4'),
        () => {},
      ),
    ).toBeDefined();
    a.cancel(w1);
    a.leave();
    a.leave();
    a.leave();
    expect(admitted).toEqual(['3', '4']);
    vi.advanceTimersByTime(5_000);
    expect(a.inFlight).toBe(0);
  });

  it('limits admissions per second with the token bucket (burst = the cap), and admits the queue as tokens come', () => {
    const a = admission({ maxConcurrent: 3, tokensPerSecond: 2, queueSize: 5, queueTimeoutMs: 10_000 });
    expect([a.tryEnter(), a.tryEnter(), a.tryEnter()]).toEqual([true, true, true]);
    a.leave();
    a.leave();
    a.leave();
    // Places are free, tokens are not.
    expect(a.tryEnter()).toBe(false);
    expect(a.retryAfterSeconds()).toBe(1);
    const admitted: number[] = [];
    a.wait(
      () => admitted.push(1),
      () => {},
    );
    a.wait(
      () => admitted.push(2),
      () => {},
    );
    clock += 499;
    vi.advanceTimersByTime(499);
    expect(admitted).toEqual([]);
    clock += 1;
    vi.advanceTimersByTime(1);
    expect(admitted).toEqual([1]);
    clock += 500;
    vi.advanceTimersByTime(500);
    expect(admitted).toEqual([1, 2]);
    expect(a.inFlight).toBe(2);
  });

  it('says when tokens come back in Retry-After, rounded up to whole seconds', () => {
    const a = admission({ maxConcurrent: 1, tokensPerSecond: 1, queueSize: 0 });
    expect(a.tryEnter()).toBe(true);
    a.leave();
    expect(a.tryEnter()).toBe(false);
    expect(a.retryAfterSeconds()).toBe(1);
    const slow = admission({ maxConcurrent: 4, tokensPerSecond: 1, queueSize: 0 });
    for (let i = 0; i < 4; i++) expect(slow.tryEnter()).toBe(true);
    clock += 100;
    expect(slow.retryAfterSeconds()).toBe(1);
  });

  it('has no cap with 0 or -1, and no bucket with an infinite rate', () => {
    for (const maxConcurrent of [0, -1]) {
      const a = admission({ maxConcurrent, queueSize: 0 });
      for (let i = 0; i < 10_000; i++) expect(a.tryEnter()).toBe(true);
      expect(a.inFlight).toBe(10_000);
    }
  });

  it('refuses at once with no queue', () => {
    const a = admission({ maxConcurrent: 1, queueSize: 0 });
    a.tryEnter();
    expect(
      a.wait(
        () => {},
        () => {},
      ),
    ).toBeUndefined();
  });
});
