import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { send } from './helpers.js';

// The bin as published; turbo builds the package before its tests.
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface Run {
  readonly child: ChildProcess;
  /** Listened for from the spawn on: 'exit' may fire before the last stdout chunk is read. */
  readonly exited: Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, exited: once(child, 'exit').then(([code]) => code as number | null) };
}

async function firstLine(child: ChildProcess): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout ?? []) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  return out.split('\n')[0] ?? '';
}

/** Runs the CLI, hands its ready line to `check`, then stops it with SIGTERM, which must exit 0. */
async function serveAndStop(args: string[], check: (line: string) => Promise<void>): Promise<void> {
  const { child, exited } = run(args);
  try {
    await check(await firstLine(child));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

describe.skipIf(!existsSync(CLI))('mock-vllm CLI', () => {
  it('prints one line with url and kv address, serves, and exits 0 on SIGTERM', async () => {
    const args = [
      ...['--role', 'prefill', '--port', '0'],
      ...['--preset', 'bench-fast', '--fault', 'status=503,times=1'],
    ];
    await serveAndStop(args, async (line) => {
      expect(line).toMatch(
        /^mock-vllm role=prefill url=http:\/\/127\.0\.0\.1:\d+ kv=127\.0\.0\.1:\d+ model=mock-model$/,
      );
      const url = /url=(\S+)/.exec(line)?.[1] ?? '';
      expect((await send(`${url}/health`)).status).toBe(200);
      const faults = JSON.parse((await send(`${url}/_mock/faults`)).text);
      expect(faults).toEqual({ faults: [{ kind: 'status', status: 503, times: 1 }] });
    });
  });

  it('--help lists the options and exits 0; a bad flag exits 2', async () => {
    const help = run(['--help']);
    const text = await firstLine(help.child);
    expect(text).toContain('mock-vllm');
    expect(await help.exited).toBe(0);
    expect(await run(['--no-such-flag']).exited).toBe(2);
  });

  it('--kv-connector nixl serves a NIXL prefill with the configured engine id and host', async () => {
    const args = [
      ...['--role', 'prefill', '--kv-connector', 'nixl'],
      ...['--nixl-engine-id', 'engine-P1', '--nixl-side-channel-host', '127.0.0.1'],
    ];
    await serveAndStop(args, async (line) => {
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
    });
  });
});
