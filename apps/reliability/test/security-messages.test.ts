import type { FaultSpec, MockVllm } from '@pd-router/mock-vllm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { bearer, send } from '../src/harness/http-get.js';
import { errorCodeOf } from '../src/harness/http-response-parser.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { SECURITY_KEYS } from '../src/scenarios/security.js';

const recorder = new ResultRecorder('security-messages');
const BUDGETS = { prefillTimeoutMs: 400, decodeTtftTimeoutMs: 400, streamIdleTimeoutMs: 400 };
let info: Stack;
let debug: Stack;

beforeAll(async () => {
  info = await startStack({ router: { ...BUDGETS, adminApiKey: SECURITY_KEYS.admin } });
  debug = await startStack({ router: { ...BUDGETS, logLevel: 'debug' } });
});

afterAll(async () => {
  await Promise.all([info.close(), debug.close()]);
  recorder.flush();
});

/** The `error.message` of a JSON error body or of the last error event of a stream. */
function messageOf(text: string): string {
  const candidates = [text, ...text.split('\n').map((l) => l.replace(/^data: /, ''))];
  for (const c of candidates.reverse()) {
    if (errorCodeOf(c) === undefined) continue;
    return (JSON.parse(c) as { error: { message: string } }).error.message;
  }
  throw new Error(`no error in ${text.slice(0, 200)}`);
}

interface Case {
  readonly name: string;
  readonly target: 'prefill' | 'decode';
  readonly fault: FaultSpec;
  readonly stream: boolean;
  readonly code: string;
}

/** A failure of one leg, as its code says it: `unavailable`, `timed out`. */
function leg(target: Case['target'], what: string, fault: FaultSpec, code: string): Case {
  return { name: `${target} ${what}`, target, fault, stream: false, code };
}

const CASES: readonly Case[] = [
  leg('prefill', 'refused', { kind: 'refuse' }, 'PD_ERR_PREFILL_UNAVAILABLE'),
  leg('prefill', 'timed out', { kind: 'hang' }, 'PD_ERR_PREFILL_TIMEOUT'),
  leg('prefill', '5xx', { kind: 'status', status: 500 }, 'PD_ERR_PREFILL_UPSTREAM_STATUS'),
  leg('decode', 'refused', { kind: 'refuse' }, 'PD_ERR_DECODE_UNAVAILABLE'),
  leg('decode', 'timed out', { kind: 'hang' }, 'PD_ERR_DECODE_TIMEOUT'),
  {
    name: 'stream idle',
    target: 'decode',
    fault: { kind: 'stall', ms: 1_500, after: 1 },
    stream: true,
    code: 'PD_ERR_STREAM_IDLE',
  },
  {
    name: 'stream broken',
    target: 'decode',
    fault: { kind: 'reset-after', events: 2 },
    stream: true,
    code: 'PD_ERR_STREAM_BROKEN',
  },
];

function addressesOf(s: Stack): string[] {
  const mocks: MockVllm[] = [...s.prefills, ...s.decodes];
  return ['127.0.0.1', 'localhost', ...mocks.flatMap((m) => [String(m.port), String(m.kvPort)])];
}

async function failWith(s: Stack, c: Case): Promise<string> {
  const mock = c.target === 'prefill' ? s.prefills[0] : s.decodes[0];
  await mock?.setFaults(c.fault);
  const r = await postCompletion(s.url, completionBody(c.stream));
  await mock?.setFaults([]);
  expect(r.code, r.text.slice(0, 300)).toBe(c.code);
  return messageOf(r.text);
}

describe('error messages and internal addresses', () => {
  it('security/error-messages-no-addresses', async () => {
    const messages: string[] = [];
    for (const c of CASES) messages.push(await failWith(info, c));
    // No worker: drain the only prefill worker through the admin API, then ask.
    const p = info.prefills[0];
    if (p === undefined) throw new Error('prefill');
    const ref = encodeURIComponent(p.url);
    expect(
      (await send(info.url, 'POST', `/admin/workers/prefill/${ref}/drain`, bearer(SECURITY_KEYS.admin)))
        .status,
    ).toBe(200);
    const none = await postCompletion(info.url, completionBody(false));
    expect(none.code).toBe('PD_ERR_NO_PREFILL_WORKER');
    messages.push(messageOf(none.text));
    await send(info.url, 'POST', `/admin/workers/prefill/${ref}/undrain`, bearer(SECURITY_KEYS.admin));

    const addresses = addressesOf(info);
    for (const m of messages) for (const a of addresses) expect(m, m).not.toContain(a);
    expect(messages.some((m) => m.includes('prefill worker #1'))).toBe(true);
    recorder.record({
      id: 'security/error-messages-no-addresses',
      observed: `no message names an address or port (workers are \`prefill worker #N\`): ${messages.length} messages checked`,
      metrics: { example: messages[0] ?? '' },
    });
  });

  it('security/error-messages-debug-addresses', async () => {
    const first = CASES[0];
    if (first === undefined) throw new Error('case');
    const message = await failWith(debug, first);
    expect(message).toContain(debug.prefills[0]?.url ?? 'missing');
    recorder.record({
      id: 'security/error-messages-debug-addresses',
      observed: "the message names the worker's URL",
      metrics: { example: message },
    });
  });
});
