import { describe, expect, it } from 'vitest';
import { KvInbox } from './kv-inbox.js';

const never = new AbortController().signal;

describe('KvInbox', () => {
  it('wakes the waiter of the delivered id only', async () => {
    const inbox = new KvInbox({ maxPending: 10, pendingTtlMs: 1_000 });
    const a = inbox.wait('a', 1_000, never);
    const b = inbox.wait('b', 30, never);
    expect(inbox.waitingCount).toBe(2);
    inbox.deliver('a');
    expect(await a).toBe('ready');
    expect(await b).toBe('timeout');
    expect(inbox.waitingCount).toBe(0);
  });

  it('keeps early notices, bounded in number and age', async () => {
    let now = 0;
    const inbox = new KvInbox({ maxPending: 2, pendingTtlMs: 100 }, () => now);
    inbox.deliver('x');
    inbox.deliver('y');
    inbox.deliver('z'); // drops x, the oldest
    expect(inbox.pendingCount).toBe(2);
    expect(await inbox.wait('x', 1, never)).toBe('timeout');
    expect(await inbox.wait('y', 1, never)).toBe('ready');
    now = 500; // z expired
    expect(await inbox.wait('z', 1, never)).toBe('timeout');
  });

  it('resolves aborted when the signal fires, and waits forever with an infinite timeout', async () => {
    const inbox = new KvInbox({ maxPending: 10, pendingTtlMs: 1_000 });
    const ac = new AbortController();
    const w = inbox.wait('q', Number.POSITIVE_INFINITY, ac.signal);
    await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    expect(await w).toBe('aborted');
    expect(inbox.waitingCount).toBe(0);
  });
});
