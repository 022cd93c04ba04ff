import { describe, expect, it } from 'vitest';
import { createStickyLeastLoadedPolicy } from './sticky-least-loaded.js';
import { workers } from './test-helpers.js';
import type { RoutingRequest } from './types.js';

function session(id: string | undefined): RoutingRequest {
  return { hashKey: () => id ?? 'prompt', promptText: () => 'prompt', sessionId: () => id };
}

describe('createStickyLeastLoadedPolicy', () => {
  it('keeps a session on its worker and gives each new session the worker with the fewest', () => {
    const policy = createStickyLeastLoadedPolicy();
    const pool = workers('decode', 3);
    const first = policy.decide(pool, session('a'));
    expect(first.reason).toBe('new_session');
    for (let i = 0; i < 5; i++) {
      const again = policy.decide(pool, session('a'));
      expect(again.worker).toBe(first.worker);
      expect(again.reason).toBe('session_hit');
    }
    const b = policy.pick(pool, session('b'));
    const c = policy.pick(pool, session('c'));
    expect(new Set([first.worker.id, b.id, c.id]).size).toBe(3);
    expect(policy.sessions).toBe(3);
  });

  it('frees a worker with finishSession: the next new session goes there', () => {
    const policy = createStickyLeastLoadedPolicy();
    const pool = workers('decode', 2);
    const a = policy.pick(pool, session('a'));
    const b = policy.pick(pool, session('b'));
    expect(a.id).not.toBe(b.id);
    expect(policy.finishSession('a')).toBe(true);
    expect(policy.finishSession('a')).toBe(false);
    expect(policy.finishSession('never-seen')).toBe(false);
    expect(policy.pick(pool, session('c')).id).toBe(a.id);
  });

  it('chooses deterministically among equally loaded workers (rendezvous on the session id)', () => {
    const pool = workers('decode', 4);
    const picks = (order: typeof pool) =>
      Array.from({ length: 50 }, (_, i) => createStickyLeastLoadedPolicy().pick(order, session(`s${i}`)).id);
    expect(picks([...pool].reverse())).toEqual(picks(pool));
    expect(new Set(picks(pool)).size).toBeGreaterThan(1);
  });

  it('moves a session whose worker left to the least-loaded one, and counts it there', () => {
    const policy = createStickyLeastLoadedPolicy();
    const pool = workers('decode', 2);
    const home = policy.pick(pool, session('a'));
    const others = pool.filter((w) => w.id !== home.id);
    const moved = policy.pick(others, session('a'));
    expect(moved.id).not.toBe(home.id);
    // Back with both: 'a' stays where it moved; the now-empty first worker takes the next session.
    expect(policy.pick(pool, session('a')).id).toBe(moved.id);
    expect(policy.pick(pool, session('b')).id).toBe(home.id);
  });

  it('routes requests without a session to the least-loaded worker without recording them', () => {
    const policy = createStickyLeastLoadedPolicy();
    const pool = workers('decode', 2);
    const busy = policy.pick(pool, session('a'));
    const free = policy.decide(pool, session(undefined));
    expect(free.worker.id).not.toBe(busy.id);
    expect(free.reason).toBe('no_session');
    expect(policy.sessions).toBe(1);
  });

  it('forgets sessions unused for the TTL (swept at most once a minute), and the least recently used beyond the limit', () => {
    let clock = 0;
    const policy = createStickyLeastLoadedPolicy({ now: () => clock, sessionTtlMs: 120_000, maxSessions: 3 });
    const pool = workers('decode', 3);
    policy.pick(pool, session('a'));
    clock = 100_000;
    policy.pick(pool, session('b'));
    clock = 170_000;
    policy.pick(pool, session('c'));
    // 'a' expired at 120 s and the sweep (due 60 s after the last, at 100 s) ran at 170 s: 'a' is gone.
    expect(policy.finishSession('a')).toBe(false);
    expect(policy.sessions).toBe(2);
    policy.pick(pool, session('d'));
    policy.pick(pool, session('b'));
    policy.pick(pool, session('e'));
    // Limit 3: the least recently used ('c') went when 'e' came.
    expect(policy.sessions).toBe(3);
    expect(policy.finishSession('c')).toBe(false);
    expect(policy.finishSession('b')).toBe(true);
  });
});
