import { describe, expect, it } from 'vitest';
import { SlotScheduler } from './slot-scheduler.js';

const never = new AbortController().signal;

describe('SlotScheduler', () => {
  it('runs up to the limit and hands slots over in FIFO order', async () => {
    const s = new SlotScheduler(1, 0);
    expect(await s.acquire(never)).toBe('acquired');
    const order: number[] = [];
    const second = s.acquire(never).then(() => order.push(2));
    const third = s.acquire(never).then(() => order.push(3));
    expect([s.running, s.waiting]).toEqual([1, 2]);
    s.release();
    await second;
    s.release();
    await third;
    expect(order).toEqual([2, 3]);
    s.release();
    expect([s.running, s.waiting]).toEqual([0, 0]);
  });

  it('reports a full queue and removes aborted waiters', async () => {
    const s = new SlotScheduler(1, 1);
    await s.acquire(never);
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    expect(await s.acquire(never)).toBe('queue-full');
    ac.abort();
    expect(await waiting).toBe('aborted');
    expect(s.waiting).toBe(0);
  });

  it('never queues with maxConcurrency 0', async () => {
    const s = new SlotScheduler(0, 0);
    for (let i = 0; i < 100; i += 1) expect(await s.acquire(never)).toBe('acquired');
    expect(s.running).toBe(100);
  });
});
