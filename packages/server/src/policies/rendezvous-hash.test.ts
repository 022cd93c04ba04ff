import { describe, expect, it } from 'vitest';
import { createRendezvousHashPolicy } from './rendezvous-hash.js';
import { workers } from './test-helpers.js';
import type { RoutingRequest, WorkerView } from './types.js';

function keyed(session: string | undefined, prompt = 'a prompt'): RoutingRequest {
  return { hashKey: () => session ?? prompt, promptText: () => prompt, sessionId: () => session };
}

const sessions = Array.from({ length: 6_000 }, (_, i) => `session-${i}`);

function owners(pool: readonly WorkerView[]): Map<string, string> {
  const policy = createRendezvousHashPolicy();
  return new Map(sessions.map((s) => [s, policy.pick(pool, keyed(s)).id]));
}

describe('createRendezvousHashPolicy', () => {
  it('sends a session to the same worker every time, in any instance, whatever the list order', () => {
    const pool = workers('decode', 4);
    const a = owners(pool);
    const b = owners([...pool].reverse());
    expect(b).toEqual(a);
  });

  it('spreads sessions evenly over the workers', () => {
    const counts = new Map<string, number>();
    for (const id of owners(workers('decode', 4)).values()) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(1_500 * 0.85);
      expect(n).toBeLessThan(1_500 * 1.15);
    }
  });

  it("moves only the departed worker's sessions when one leaves, and only new ones when one joins", () => {
    const four = workers('decode', 4);
    const before = owners(four);
    const after = owners(four.filter((w) => w.id !== 'D3'));
    for (const s of sessions) {
      if (before.get(s) !== 'D3') expect(after.get(s)).toBe(before.get(s));
      else expect(after.get(s)).not.toBe('D3');
    }
    const five = owners(workers('decode', 5));
    let moved = 0;
    for (const s of sessions) {
      if (five.get(s) !== before.get(s)) {
        expect(five.get(s)).toBe('D5');
        moved += 1;
      }
    }
    expect(moved).toBeGreaterThan(sessions.length * 0.15);
    expect(moved).toBeLessThan(sessions.length * 0.25);
  });

  it('keys a request without a session id by its prompt, and reports its reason', () => {
    const policy = createRendezvousHashPolicy();
    const pool = workers('prefill', 3);
    const first = policy.decide(pool, keyed(undefined, 'the same prompt'));
    expect(first.reason).toBe('rendezvous_hash');
    for (let i = 0; i < 20; i++)
      expect(policy.pick(pool, keyed(undefined, 'the same prompt'))).toBe(first.worker);
    const picked = new Set(
      Array.from({ length: 200 }, (_, i) => policy.pick(pool, keyed(undefined, `p${i}`)).id),
    );
    expect(picked.size).toBe(3);
  });
});
