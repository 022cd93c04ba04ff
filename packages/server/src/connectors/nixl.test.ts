import { parseWorkerUrl, type WorkerAddress } from '@pd-router/core';
import { describe, expect, it } from 'vitest';
import { ServerError } from '../errors.js';
import { createNixlConnector } from './nixl.js';
import type { SequentialConnector } from './types.js';

const SKELETON =
  '{"do_remote_decode": true, "do_remote_prefill": false, "remote_engine_id": null, "remote_block_ids": null, "remote_host": null, "remote_port": null}';
const enc = (text: string) => new TextEncoder().encode(text);

function address(spec: string): WorkerAddress {
  const parsed = parseWorkerUrl(spec, { zmqUnused: true });
  if (!parsed.ok) throw parsed.error;
  return parsed.value;
}

const LOCAL_P = address('http://127.0.0.1:20001');
const REMOTE_P = address('http://10.0.0.5:8000');

function connector(overrides: Partial<Parameters<typeof createNixlConnector>[0]> = {}): SequentialConnector {
  return createNixlConnector({ onMissingParams: 'recompute', rewriteRemoteHost: true, ...overrides });
}

function prefillOf(body: string, c = connector()): string {
  const prepared = c.prepare(enc(body));
  if (!prepared.ok) throw prepared.error;
  return prepared.value.prefill;
}

/** The decode request for a client body and a prefill answer (text). */
function decodeOf(
  body: string,
  answer: string,
  options: { c?: SequentialConnector; p?: WorkerAddress } = {},
) {
  const c = options.c ?? connector();
  const prepared = c.prepare(enc(body));
  if (!prepared.ok) throw prepared.error;
  return c.decodeBody(prepared.value, enc(answer), options.p ?? LOCAL_P);
}

const PARAMS =
  '{"do_remote_prefill":true,"do_remote_decode":false,"remote_block_ids":[1,2,3],"remote_engine_id":"e1","remote_request_id":"cmpl-x-0","remote_host":"localhost","remote_port":5600,"tp_size":1}';
const PARAMS_OUT =
  '{"do_remote_prefill": true, "do_remote_decode": false, "remote_block_ids": [1, 2, 3], "remote_engine_id": "e1", "remote_request_id": "cmpl-x-0", "remote_host": "localhost", "remote_port": 5600, "tp_size": 1}';

describe('NIXL prefill body', () => {
  it('appends kv_transfer_params, stream and max_tokens in that order when absent', () => {
    expect(prefillOf('{"model":"m","prompt":"hi"}')).toBe(
      `{"model": "m", "prompt": "hi", "kv_transfer_params": ${SKELETON}, "stream": false, "max_tokens": 1}`,
    );
  });

  it('edits present keys in place and drops stream_options, min_tokens, min_completion_tokens', () => {
    const body =
      '{"stream":true,"max_completion_tokens":9,"min_tokens":2,"kv_transfer_params":{"x":1},"stream_options":{"include_usage":true},"max_tokens":null,"min_completion_tokens":null,"n":1}';
    expect(prefillOf(body)).toBe(
      `{"stream": false, "max_completion_tokens": 1, "kv_transfer_params": ${SKELETON}, "max_tokens": 1, "n": 1}`,
    );
  });

  it("parses as Python's json.loads(bytes): BOM and UTF-16 accepted, invalid UTF-8 and non-objects refused", () => {
    const c = connector();
    const bom = c.prepare(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"é"}')]));
    expect(bom.ok && bom.value.prefill.startsWith('{"a": "\\u00e9", ')).toBe(true);
    const utf16 = c.prepare(Buffer.from('{"a":1}', 'utf16le'));
    expect(utf16.ok && utf16.value.prefill.startsWith('{"a": 1, ')).toBe(true);
    const invalid = c.prepare(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
    expect(invalid.ok ? undefined : invalid.error.code).toBe('PD_ERR_JSON_ENCODING');
    const array = c.prepare(enc(' [1]'));
    expect(array.ok ? undefined : [array.error.code, array.error.statusCode]).toEqual([
      'PD_ERR_JSON_NOT_OBJECT',
      400,
    ]);
    const syntax = c.prepare(enc('{"a":'));
    expect(syntax.ok ? undefined : syntax.error.code).toBe('PD_ERR_JSON_SYNTAX');
  });
});

describe('NIXL batched requests', () => {
  const rejected = (body: string) => {
    const r = connector().prepare(enc(body));
    if (r.ok) return undefined;
    expect(r.error).toBeInstanceOf(ServerError);
    const e = r.error as ServerError;
    return [e.code, e.statusCode, e.param];
  };

  it('refuses n > 1 and lists of several prompts with a 400 naming the field', () => {
    expect(rejected('{"prompt":"a","n":2}')).toEqual(['PD_ERR_NIXL_BATCH_UNSUPPORTED', 400, 'n']);
    expect(rejected('{"messages":[],"n":3.0}')).toEqual(['PD_ERR_NIXL_BATCH_UNSUPPORTED', 400, 'n']);
    expect(rejected('{"prompt":["a","b"]}')).toEqual(['PD_ERR_NIXL_BATCH_UNSUPPORTED', 400, 'prompt']);
    expect(rejected('{"prompt":[[1,2],[3]]}')).toEqual(['PD_ERR_NIXL_BATCH_UNSUPPORTED', 400, 'prompt']);
  });

  it('accepts one prompt in any form, and n of 1', () => {
    for (const body of [
      '{"prompt":"a","n":1}',
      '{"prompt":["a"]}',
      '{"prompt":[1,2,3]}',
      '{"prompt":[[1,2,3]]}',
      '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}',
      '{"prompt":"a","n":null}',
    ]) {
      expect(rejected(body), body).toBeUndefined();
    }
  });
});

describe('NIXL request id', () => {
  it('is a uuid4 of the random bytes, the same whatever the workers', () => {
    const id = connector().requestId(LOCAL_P, REMOTE_P, new Uint8Array(16).fill(0xab));
    expect(id).toBe('abababab-abab-4bab-abab-abababababab');
  });
});

describe('NIXL decode body', () => {
  it("is the client body plus the prefill's params, in place or last, numbers re-printed as Python does", () => {
    const answer =
      '{"id":"x","kv_transfer_params":{"do_remote_prefill":true,"remote_block_ids":[12345678901234567890],"remote_engine_id":"e","remote_host":"h","remote_port":1E3,"extra":1e400}}';
    const bad = decodeOf('{"a":1}', answer);
    // remote_port 1E3 is a float to Python: not a port, so the params are invalid.
    expect(bad.ok && bad.value.recompute?.reason).toBe('invalid_params');
    const good = answer.replace('1E3', '5600');
    const appended = decodeOf('{"a":1}', good);
    expect(appended.ok && appended.value).toEqual({
      body: '{"a": 1, "kv_transfer_params": {"do_remote_prefill": true, "remote_block_ids": [12345678901234567890], "remote_engine_id": "e", "remote_host": "h", "remote_port": 5600, "extra": Infinity}}',
    });
    const inPlace = decodeOf(
      '{"kv_transfer_params":{"from":"client"},"a":1}',
      `{"kv_transfer_params":${PARAMS}}`,
    );
    expect(inPlace.ok && inPlace.value.body).toBe(`{"kv_transfer_params": ${PARAMS_OUT}, "a": 1}`);
  });

  it('keeps the client fields the prefill lost (stream, stream_options, min_tokens, max_tokens)', () => {
    const body = '{"stream":true,"stream_options":{"include_usage":true},"min_tokens":2,"max_tokens":7}';
    const r = decodeOf(body, `{"kv_transfer_params":${PARAMS}}`);
    expect(r.ok && r.value.body).toBe(
      `{"stream": true, "stream_options": {"include_usage": true}, "min_tokens": 2, "max_tokens": 7, "kv_transfer_params": ${PARAMS_OUT}}`,
    );
  });

  it('passes params with empty remote_block_ids (a prompt shorter than a block) as they are', () => {
    const r = decodeOf('{}', '{"kv_transfer_params":{"do_remote_prefill":true,"remote_block_ids":[]}}');
    expect(r.ok && r.value).toEqual({
      body: '{"kv_transfer_params": {"do_remote_prefill": true, "remote_block_ids": []}}',
    });
  });

  it('an answer that is not a JSON object: a recompute (bad_answer), or PD_ERR_PREFILL_BAD_ANSWER with fail', () => {
    const failing = connector({ onMissingParams: 'fail' });
    for (const answer of ['', 'Internal Server Error', '[1]', '"x"', '{"a":']) {
      const r = decodeOf('{"a": 1}', answer);
      expect(r.ok && r.value.body, answer).toBe('{"a": 1}');
      expect(r.ok && r.value.recompute?.reason, answer).toBe('bad_answer');
      const f = decodeOf('{}', answer, { c: failing });
      expect(f.ok ? undefined : [f.error.code, f.error.statusCode], answer).toEqual([
        'PD_ERR_PREFILL_BAD_ANSWER',
        502,
      ]);
    }
  });

  const unusable: [string, string, string | undefined][] = [
    ['{"id":"x"}', 'missing_params', 'PD_ERR_KV_PARAMS_MISSING'],
    ['{"kv_transfer_params":{}}', 'empty_params', 'PD_ERR_KV_PARAMS_MISSING'],
    ['{"kv_transfer_params":0}', 'empty_params', 'PD_ERR_KV_PARAMS_MISSING'],
    ['{"kv_transfer_params":"yes"}', 'invalid_params', 'PD_ERR_KV_PARAMS_INVALID'],
    [
      '{"kv_transfer_params":{"do_remote_prefill":false,"remote_block_ids":[1]}}',
      'invalid_params',
      'PD_ERR_KV_PARAMS_INVALID',
    ],
    [
      '{"kv_transfer_params":{"do_remote_prefill":true,"remote_block_ids":[1],"remote_engine_id":"e","remote_port":5600}}',
      'invalid_params',
      'PD_ERR_KV_PARAMS_INVALID',
    ],
    ['{"kv_transfer_params":null}', 'null_params', undefined],
  ];

  it.each(unusable)('recompute (default): %s → the client body, reason %s', (answer, reason) => {
    const r = decodeOf('{"a":1,"kv_transfer_params":{"from":"client"}}', answer);
    expect(r.ok && r.value.body).toBe('{"a": 1, "kv_transfer_params": {"from": "client"}}');
    expect(r.ok && r.value.recompute?.reason).toBe(reason);
    expect(r.ok && r.value.recompute?.detail).toMatch(/kv_transfer_params/);
  });

  it.each(unusable)('fail: %s (%s) → %s; null still recomputes', (answer, reason, code) => {
    const r = decodeOf('{"a":1}', answer, { c: connector({ onMissingParams: 'fail' }) });
    if (code === undefined) {
      expect(r.ok && r.value.recompute?.reason).toBe(reason);
    } else {
      expect(r.ok ? undefined : [r.error.code, r.error.statusCode]).toEqual([code, 502]);
    }
  });
});

describe('NIXL remote_host rewrite', () => {
  const answer = (host: string) =>
    `{"kv_transfer_params":${PARAMS.replace('"localhost"', JSON.stringify(host))}}`;

  it('rewrites a loopback remote_host from a remote prefill to its host, in place', () => {
    for (const host of ['localhost', '127.0.0.1', '::1', '0.0.0.0']) {
      const r = decodeOf('{}', answer(host), { p: REMOTE_P });
      expect(r.ok && r.value.remoteHostRewrite).toEqual({ from: host, to: '10.0.0.5' });
      expect(r.ok && r.value.body).toBe(
        `{"kv_transfer_params": ${PARAMS_OUT.replace('"localhost"', '"10.0.0.5"')}}`,
      );
    }
    const ipv6 = decodeOf('{}', answer('localhost'), { p: address('http://[fd00::5]:8000') });
    expect(ipv6.ok && ipv6.value.remoteHostRewrite?.to).toBe('fd00::5');
  });

  it('leaves it alone for a loopback prefill, a real remote_host, or with the rewrite off', () => {
    const cases = [
      decodeOf('{}', answer('localhost'), { p: LOCAL_P }),
      decodeOf('{}', answer('10.0.0.9'), { p: REMOTE_P }),
      decodeOf('{}', answer('localhost'), { p: REMOTE_P, c: connector({ rewriteRemoteHost: false }) }),
    ];
    for (const r of cases) {
      expect(r.ok && r.value.remoteHostRewrite).toBeUndefined();
      expect(r.ok && r.value.body).not.toContain('10.0.0.5');
    }
  });

  it('asks the injected isLocalHost, so tests can make a loopback prefill look remote', () => {
    const c = connector({ isLocalHost: (host) => host === 'localhost' });
    const r = decodeOf('{}', answer('localhost'), { c, p: LOCAL_P });
    expect(r.ok && r.value.remoteHostRewrite).toEqual({ from: 'localhost', to: '127.0.0.1' });
  });
});
