import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecodeServer, createPrefillServer, type MockVllm } from '../src/index.js';
import { send } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/reference-proxy', import.meta.url));

/** The captured bytes of one upstream request, with Host rewritten to the mock actually called. */
function captured(caseName: string, role: 'prefill' | 'decode', hostHeader: string): Buffer {
  const raw = readFileSync(`${FIXTURES}/${caseName}/${role}.http`, 'latin1');
  return Buffer.from(raw.replace(/^Host: .*$/m, `Host: ${hostHeader}`), 'latin1');
}

/** Writes raw bytes on a fresh socket and waits until the mock has recorded the request. */
async function replay(mock: MockVllm, bytes: Buffer): Promise<void> {
  const before = mock.verdicts.length;
  const socket = connect(mock.port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(bytes);
  const deadline = Date.now() + 5_000;
  while (mock.verdicts.length === before && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  socket.destroy();
}

let prefill: MockVllm;
let decode: MockVllm;

beforeAll(async () => {
  prefill = await createPrefillServer({ fixtures: FIXTURES });
  decode = await createDecodeServer({ fixtures: FIXTURES, kvWaitTimeoutMs: 100 });
});
afterAll(async () => {
  await Promise.all([prefill.close(), decode.close()]);
});

describe('conformance mode (--fixtures)', () => {
  it('records a passing verdict for a golden request, per role', async () => {
    await replay(prefill, captured('01-seed-chat', 'prefill', `127.0.0.1:${prefill.port}`));
    await replay(decode, captured('01-seed-chat', 'decode', `127.0.0.1:${decode.port}`));
    expect(prefill.verdicts.at(-1)).toMatchObject({ ok: true, role: 'prefill', case: '01-seed-chat' });
    expect(decode.verdicts.at(-1)).toMatchObject({ ok: true, role: 'decode' });
  });

  it('records a failing verdict with a diff when one body byte changes', async () => {
    const bytes = captured('01-seed-completions', 'prefill', `127.0.0.1:${prefill.port}`);
    const at = bytes.lastIndexOf('"max_tokens": 1');
    bytes[at + '"max_tokens": '.length] = '2'.charCodeAt(0);
    await replay(prefill, bytes);
    const verdict = prefill.verdicts.at(-1);
    expect(verdict?.ok).toBe(false);
    expect(verdict?.diff).toBeTruthy();
  });

  it('fails a request sent to the wrong Host', async () => {
    await replay(prefill, captured('01-seed-chat', 'prefill', '127.0.0.1:1'));
    expect(prefill.verdicts.at(-1)?.ok).toBe(false);
  });

  it('serves the verdicts as JSON on GET /_mock/verdicts', async () => {
    const body = JSON.parse((await send(`${prefill.url}/_mock/verdicts`)).text);
    expect(body).toMatchObject({ enabled: true, count: prefill.verdicts.length });
    expect(body.passed + body.failed).toBe(body.count);
    expect(body.verdicts[0]).toMatchObject({ ok: true, role: 'prefill' });
  });

  it('rejects a fixtures directory that holds no cases', async () => {
    await expect(
      createPrefillServer({ fixtures: fileURLToPath(new URL('.', import.meta.url)) }),
    ).rejects.toThrow();
  });
});
