import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchedLogDestination, LOG_FLUSH_BYTES, LOG_FLUSH_INTERVAL_MS } from './log-destination.js';

function sink(): { out: Writable; writes: string[] } {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      cb();
    },
  });
  return { out, writes };
}

describe('BatchedLogDestination', () => {
  it('writes the lines of one interval in one write, in order', async () => {
    const { out, writes } = sink();
    const dest = new BatchedLogDestination(out);
    dest.write('a\n');
    dest.write('b\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setTimeout(r, LOG_FLUSH_INTERVAL_MS * 4));
    expect(writes).toEqual(['a\nb\n']);
    dest.close();
  });

  it('flushes at once when the pending bytes reach the limit, and on close', () => {
    const { out, writes } = sink();
    const dest = new BatchedLogDestination(out);
    const big = 'x'.repeat(LOG_FLUSH_BYTES);
    dest.write(big);
    expect(writes).toEqual([big]);
    dest.write('tail\n');
    dest.close();
    expect(writes).toEqual([big, 'tail\n']);
  });
});
