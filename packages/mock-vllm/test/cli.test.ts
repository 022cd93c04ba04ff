import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { send } from './helpers.js';

// The bin as published; turbo builds the package before its tests.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout ?? []) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  return out.split('\n')[0] ?? '';
}

describe.skipIf(!existsSync(CLI))('mock-vllm CLI', () => {
  it('prints one line with url and kv address, serves, and exits 0 on SIGTERM', async () => {
    const child = run([
      '--role',
      'prefill',
      '--port',
      '0',
      '--preset',
      'bench-fast',
      '--fault',
      'status=503,times=1',
    ]);
    try {
      const line = await firstLine(child);
      expect(line).toMatch(
        /^mock-vllm role=prefill url=http:\/\/127\.0\.0\.1:\d+ kv=127\.0\.0\.1:\d+ model=mock-model$/,
      );
      const url = /url=(\S+)/.exec(line)?.[1] ?? '';
      expect((await send(`${url}/health`)).status).toBe(200);
      const faults = JSON.parse((await send(`${url}/_mock/faults`)).text);
      expect(faults).toEqual({ faults: [{ kind: 'status', status: 503, times: 1 }] });
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('--help lists the options and exits 0; a bad flag exits 2', async () => {
    const help = run(['--help']);
    const text = await firstLine(help);
    expect(text).toContain('mock-vllm');
    expect((await once(help, 'exit'))[0]).toBe(0);
    const bad = run(['--no-such-flag']);
    expect((await once(bad, 'exit'))[0]).toBe(2);
  });

  it('--kv-connector nixl serves a NIXL prefill with the configured engine id and host', async () => {
    const child = run([
      '--role',
      'prefill',
      '--kv-connector',
      'nixl',
      '--nixl-engine-id',
      'engine-P1',
      '--nixl-side-channel-host',
      '127.0.0.1',
    ]);
    try {
      const line = await firstLine(child);
      // The ready line is unchanged in NIXL mode (apps/dev parses it).
      expect(line).toMatch(/^mock-vllm role=prefill url=\S+ kv=127\.0\.0\.1:(\d+) model=mock-model$/);
      const url = /url=(\S+)/.exec(line)?.[1] ?? '';
      const kvPort = Number(/kv=\S+:(\d+)/.exec(line)?.[1]);
      const reply = await send(`${url}/v1/completions`, {
        body: JSON.stringify({
          prompt: 'x'.repeat(100),
          max_tokens: 1,
          kv_transfer_params: { do_remote_decode: true },
        }),
        headers: { 'x-request-id': 'abc' },
      });
      expect(JSON.parse(reply.text).kv_transfer_params).toMatchObject({
        remote_engine_id: 'engine-P1',
        remote_request_id: 'cmpl-abc-0',
        remote_host: '127.0.0.1',
        remote_port: kvPort,
      });
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect((await exited)[0]).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
