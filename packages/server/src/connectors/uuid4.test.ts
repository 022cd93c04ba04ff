import { describe, expect, it } from 'vitest';
import { createRandom16 } from './random16.js';
import { uuid4 } from './uuid4.js';

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuid4', () => {
  it('sets the version and variant bits and keeps every other bit', () => {
    expect(uuid4(new Uint8Array(16))).toBe('00000000-0000-4000-8000-000000000000');
    expect(uuid4(new Uint8Array(16).fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    const bytes = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    expect(uuid4(bytes)).toBe('00112233-4455-4677-8899-aabbccddeeff');
  });

  it('has the shape of str(uuid.uuid4()) for random bytes, and does not modify them', () => {
    const random16 = createRandom16();
    for (let i = 0; i < 500; i++) {
      const bytes = random16();
      const before = Buffer.from(bytes).toString('hex');
      expect(uuid4(bytes)).toMatch(UUID4);
      expect(Buffer.from(bytes).toString('hex')).toBe(before);
    }
  });
});
