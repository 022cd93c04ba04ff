import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWorkerUrl } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { createNixlConnector } from '../src/connectors/nixl.js';

// Every exchange captured from vLLM's NIXL toy proxy (fixtures/nixl-toy-proxy), at the connector
// level: the client's bytes give the captured prefill body, and the captured prefill answer gives
// the captured decode body, byte for byte. (The acceptance run checks the same through the CLI.)
const FIXTURES = fileURLToPath(new URL('../../../fixtures/nixl-toy-proxy/', import.meta.url));

function httpBody(file: string): Buffer {
  const raw = readFileSync(file);
  const end = raw.indexOf('\r\n\r\n');
  expect(end, file).toBeGreaterThan(0);
  expect(raw.subarray(0, end).toString('latin1')).not.toMatch(/transfer-encoding/i);
  return raw.subarray(end + 4);
}

interface Round {
  readonly name: string;
  readonly client: Buffer;
  readonly prefill: string;
  readonly prefillAnswer: Buffer;
  readonly decode: string;
}

function rounds(): Round[] {
  const out: Round[] = [];
  for (const name of readdirSync(FIXTURES).sort()) {
    if (name === 'README.md') continue;
    const dir = join(FIXTURES, name);
    const files = new Set(readdirSync(dir));
    const client = readFileSync(join(dir, 'client-request.json'));
    const suffixes = files.has('prefill.normalized.http')
      ? ['']
      : [...files].filter((f) => /^prefill-\d+\.normalized\.http$/.test(f)).map((f) => f.slice(7, -16));
    expect(suffixes.length, name).toBeGreaterThan(0);
    for (const suffix of suffixes) {
      out.push({
        name: `${name}${suffix}`,
        client,
        prefill: httpBody(join(dir, `prefill${suffix}.normalized.http`)).toString('latin1'),
        prefillAnswer: httpBody(join(dir, `prefill${suffix}.response.normalized.http`)),
        decode: httpBody(join(dir, `decode${suffix}.normalized.http`)).toString('latin1'),
      });
    }
  }
  return out;
}

const PREFILL = parseWorkerUrl('http://127.0.0.1:20001');

describe('NIXL connector against every toy-proxy capture', () => {
  const all = rounds();
  const connector = createNixlConnector({ onMissingParams: 'recompute', rewriteRemoteHost: true });

  it('covers every case of the fixture set', () => {
    expect(all.length).toBeGreaterThanOrEqual(35);
  });

  it.each(all.map((r) => [r.name, r] as const))(
    '%s: prefill and decode bodies byte for byte',
    (_name, round) => {
      if (!PREFILL.ok) throw PREFILL.error;
      const prepared = connector.prepare(round.client);
      if (!prepared.ok) throw prepared.error;
      expect(prepared.value.prefill).toBe(round.prefill);
      const decode = connector.decodeBody(prepared.value, round.prefillAnswer, PREFILL.value);
      if (!decode.ok) throw decode.error;
      expect(decode.value.body).toBe(round.decode);
    },
  );
});
