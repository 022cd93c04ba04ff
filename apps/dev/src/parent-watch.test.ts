import { afterEach, describe, expect, it, vi } from 'vitest';
import { PARENT_POLL_MS, watchParent } from './parent-watch.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('watchParent', () => {
  it('calls onGone once, at the first poll after the parent pid changes', () => {
    vi.useFakeTimers();
    let ppid = 100;
    const onGone = vi.fn();
    watchParent(onGone, { ppid: () => ppid });
    vi.advanceTimersByTime(PARENT_POLL_MS * 3);
    expect(onGone).not.toHaveBeenCalled();
    ppid = 1;
    vi.advanceTimersByTime(PARENT_POLL_MS);
    expect(onGone).toHaveBeenCalledTimes(1);
    ppid = 7;
    vi.advanceTimersByTime(PARENT_POLL_MS * 3);
    expect(onGone).toHaveBeenCalledTimes(1);
  });

  it('stops watching when told to', () => {
    vi.useFakeTimers();
    let ppid = 100;
    const onGone = vi.fn();
    const unwatch = watchParent(onGone, { ppid: () => ppid });
    unwatch();
    ppid = 1;
    vi.advanceTimersByTime(PARENT_POLL_MS * 3);
    expect(onGone).not.toHaveBeenCalled();
  });

  it('never keeps the process alive (the timer is unref-ed)', () => {
    const spy = vi.spyOn(globalThis, 'setInterval');
    const unwatch = watchParent(() => undefined);
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    unwatch();
    spy.mockRestore();
  });
});
