import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogOutput, textLine } from './log-output.js';

function sink(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { out, text: () => text };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const LINE =
  '{"level":40,"time":0,"pid":1,"hostname":"h","msg":"proxied request failed","status":502,"outcome":"prefill_failed","detail":"a b"}\n';

describe('--log-format text', () => {
  it('writes time, level and message, then key=value fields (quoted when not a plain word)', () => {
    expect(textLine(LINE)).toBe(
      '1970-01-01T00:00:00.000Z WARN proxied request failed status=502 outcome=prefill_failed detail="a b"\n',
    );
    expect(textLine('not json\n')).toBe('not json\n');
  });

  it('turns every line of a batch, and leaves JSON alone by default', () => {
    const text = sink();
    createLogOutput({ format: 'text', dir: undefined, stdout: text.out }).write(LINE + LINE);
    expect(text.text().split('\n').filter(Boolean)).toHaveLength(2);
    const json = sink();
    expect(createLogOutput({ format: 'json', dir: undefined, stdout: json.out })).toBe(json.out);
  });
});

describe('--log-dir', () => {
  it('appends every line to DIR/pd-router.log too, creating DIR', async () => {
    const base = await mkdtemp(join(tmpdir(), 'pd-router-logs-'));
    dirs.push(base);
    const dir = join(base, 'nested', 'logs');
    const out = sink();
    const output = createLogOutput({ format: 'json', dir, stdout: out.out });
    output.write(LINE);
    output.write(LINE);
    expect(await readFile(join(dir, 'pd-router.log'), 'utf8')).toBe(LINE + LINE);
    expect(out.text()).toBe(LINE + LINE);
    const again = createLogOutput({ format: 'text', dir, stdout: sink().out });
    again.write(LINE);
    expect((await readFile(join(dir, 'pd-router.log'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(3);
  });
});
