import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { prepareMooncakeRequest } from '../src/connectors/mooncake-body.js';
import { parseEngineIds } from '../src/connectors/mooncake-bootstrap.js';

// Every exchange captured from vLLM's Mooncake proxy (fixtures/mooncake-proxy), at the connector
// level: the client's bytes give the captured prefill body, and the captured /query answer, the
// bootstrap address and the round's DP rank give the captured decode body, byte for byte. (The
// acceptance run checks the same through the CLI.)
const FIXTURES = fileURLToPath(new URL('../../../fixtures/mooncake-proxy/', import.meta.url));
const ID = '0b9d3d4e-5a6f-4c1e-9f2a-3b4c5d6e7f80';

function httpBody(file: string): Buffer {
  const raw = readFileSync(file);
  const end = raw.indexOf('\r\n\r\n');
  expect(end, file).toBeGreaterThan(0);
  return raw.subarray(end + 4);
}

interface Round {
  readonly name: string;
  readonly client: Buffer;
  readonly prefill: string;
  readonly decode: string;
  readonly bootstrapAddr: string;
  readonly engineId: string;
}

interface CaseJson {
  readonly mooncake: {
    readonly prefills: readonly { bootstrap_addr: string; query_response_file: string }[];
  };
  readonly rounds: readonly {
    prefill: { file: string; index: number; x_data_parallel_rank: string };
  }[];
}

function rounds(): Round[] {
  const out: Round[] = [];
  for (const name of readdirSync(FIXTURES).sort()) {
    if (name === 'README.md') continue;
    const dir = join(FIXTURES, name);
    const c = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
    for (const [k, round] of c.rounds.entries()) {
      const suffix = round.prefill.file.slice('prefill'.length, -'.http'.length);
      const p = c.mooncake.prefills[round.prefill.index - 1];
      if (p === undefined) throw new Error(`${name}: no prefill ${round.prefill.index}`);
      const engineIds = parseEngineIds(httpBody(join(dir, p.query_response_file)));
      if (!engineIds.ok) throw engineIds.error;
      const client = join(dir, `client-request${suffix}.json`);
      out.push({
        name: `${name}${c.rounds.length > 1 ? ` #${k + 1}` : ''}`,
        client: readFileSync(
          readdirSync(dir).includes(`client-request${suffix}.json`)
            ? client
            : join(dir, 'client-request.json'),
        ),
        prefill: httpBody(join(dir, `prefill${suffix}.normalized.http`))
          .toString('latin1')
          .split('{uuid}')
          .join(ID),
        decode: httpBody(join(dir, `decode${suffix}.normalized.http`))
          .toString('latin1')
          .split('{uuid}')
          .join(ID),
        bootstrapAddr: p.bootstrap_addr,
        engineId: engineIds.value[Number(round.prefill.x_data_parallel_rank)] ?? '',
      });
    }
  }
  return out;
}

describe('Mooncake bodies against every capture of the proxy', () => {
  const all = rounds();

  it('covers every case of the fixture set', () => {
    expect(all.length).toBeGreaterThanOrEqual(32);
  });

  it.each(all.map((r) => [r.name, r] as const))(
    '%s: prefill and decode bodies byte for byte',
    (_name, round) => {
      const prepared = prepareMooncakeRequest(round.client);
      if (!prepared.ok) throw prepared.error;
      expect(prepared.value.prefillBody(ID)).toBe(round.prefill);
      expect(prepared.value.decodeBody(ID, round.bootstrapAddr, round.engineId)).toBe(round.decode);
    },
  );
});

describe('Mooncake requests the proxy would mangle', () => {
  const rejected = (body: string) => {
    const r = prepareMooncakeRequest(Buffer.from(body));
    if (r.ok) throw new Error('accepted');
    return [
      r.error.code,
      'statusCode' in r.error ? r.error.statusCode : undefined,
      'param' in r.error ? r.error.param : undefined,
    ];
  };

  it('refuses batches (one transfer_id cannot carry several sequences) and non-objects', () => {
    expect(rejected('{"prompt":["a","b"]}')).toEqual(['PD_ERR_MOONCAKE_BATCH_UNSUPPORTED', 400, 'prompt']);
    expect(rejected('{"messages":[],"n":2}')).toEqual(['PD_ERR_MOONCAKE_BATCH_UNSUPPORTED', 400, 'n']);
    expect(rejected('[1]')[0]).toBe('PD_ERR_JSON_NOT_OBJECT');
    expect(rejected('{"a":')[0]).toMatch(/^PD_ERR_/);
  });

  it('escapes a non-ASCII engine id as json.dumps does', () => {
    const r = prepareMooncakeRequest(Buffer.from('{"prompt":"hi"}'));
    if (!r.ok) throw r.error;
    expect(r.value.decodeBody('x', 'http://h:1', 'é')).toBe(
      '{"prompt": "hi", "kv_transfer_params": {"do_remote_decode": false, "do_remote_prefill": true, "remote_bootstrap_addr": "http://h:1", "remote_engine_id": "\\u00e9", "transfer_id": "xfer-x"}}',
    );
  });
});
