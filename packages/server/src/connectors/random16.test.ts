import { describe, expect, it } from 'vitest';
import { createRandom16 } from './random16.js';

describe('createRandom16', () => {
  it('returns 16 fresh bytes per call and refills the pool when used up', () => {
    const random16 = createRandom16(64);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const bytes = random16();
      expect(bytes).toHaveLength(16);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(40);
  });
});
