import { CORE_ERROR_CODES, canonicalize } from '@pd-router/core';
import fc from 'fast-check';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeLines } from '../src/harness/capture-logger.js';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { type Stack, startStack } from '../src/harness/stack.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { DOCUMENTED_REQUEST_STATUSES, fuzzRuns } from '../src/scenarios/fuzz.js';

const recorder = new ResultRecorder('fuzz');
const CORE_CODES: ReadonlySet<string> = new Set(CORE_ERROR_CODES);
const encoder = new TextEncoder();

afterAll(() => recorder.flush());

/** JSON text with some bytes replaced, inserted or dropped: mostly almost-valid input. */
const mutatedJson = fc
  .tuple(
    fc.json({ maxDepth: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'drop')), {
      maxLength: 4,
    }),
  )
  .map(([text, edits]) => {
    const bytes = [...encoder.encode(text)];
    for (const [at, byte, op] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (op === 'set' && bytes.length > 0) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return Uint8Array.from(bytes);
  });

const anyInput = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.json({ maxDepth: 5 }).map((t) => encoder.encode(t)),
  fc.object({ maxDepth: 3 }).map((o) => encoder.encode(JSON.stringify(o))),
  mutatedJson,
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => encoder.encode(JSON.stringify({ s }))),
);

describe('fuzzing the canonicalizer', () => {
  it('fuzz/canonicalizer-total and fuzz/canonicalizer-idempotent', () => {
    const runs = fuzzRuns('canonicalizer');
    let accepted = 0;
    fc.assert(
      fc.property(anyInput, (input) => {
        const first = canonicalize(input);
        if (!first.ok) {
          expect(CORE_CODES.has(first.error.code)).toBe(true);
          return;
        }
        accepted += 1;
        expect(typeof first.value).toBe('string');
        // ensure_ascii: every code unit below 0x80.
        expect([...first.value].every((ch) => ch.charCodeAt(0) < 0x80)).toBe(true);
        const second = canonicalize(encoder.encode(first.value));
        expect(second.ok && second.value).toBe(first.value);
      }),
      { numRuns: runs },
    );
    recorder.record({
      id: 'fuzz/canonicalizer-total',
      observed: `never threw in ${runs} runs; ${accepted} \`ok\` (ASCII), ${runs - accepted} coded errors`,
    });
    recorder.record({
      id: 'fuzz/canonicalizer-idempotent',
      observed: `equal to \`canonicalize(x)\` for all ${accepted} accepted inputs`,
    });
  });
});

describe('fuzzing request parsing through the router', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      router: { maxPayloadSize: 4_096, prefillTimeoutMs: 10_000, decodeTtftTimeoutMs: 10_000 },
    });
  });
  afterAll(async () => {
    await stack.close();
  });

  const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
  const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim());
  const contentType = fc.oneof(
    {
      arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/x+json'),
      weight: 6,
    },
    { arbitrary: fc.constantFrom('text/plain', 'APPLICATION/JSON', 'application/json;', ''), weight: 1 },
    { arbitrary: headerValue, weight: 1 },
  );
  const completionShaped = fc
    .record(
      {
        model: fc.oneof(fc.string({ maxLength: 10 }), fc.constant(null), fc.integer()),
        prompt: fc.oneof(
          fc.string({ maxLength: 50 }),
          fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 5 }),
          fc.constant(null),
        ),
        max_tokens: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.string({ maxLength: 3 }), fc.double()),
        stream: fc.oneof(fc.boolean(), fc.constant('yes')),
        n: fc.integer({ min: 0, max: 3 }),
        temperature: fc.double(),
      },
      { requiredKeys: [] },
    )
    .map((o) => encoder.encode(JSON.stringify(o)));
  /** Valid completions with random extra fields: these must go through (200). */
  const validWithExtras = fc
    .record({
      prompt: fc.string({ maxLength: 40 }),
      max_tokens: fc.integer({ min: 1, max: 4 }),
      stream: fc.boolean(),
      extra: fc.dictionary(
        fc.string({ maxLength: 8 }).map((k) => `x_${k}`),
        fc.jsonValue({ maxDepth: 2 }),
        { maxKeys: 3 },
      ),
    })
    .map(({ extra, ...o }) => encoder.encode(JSON.stringify({ model: 'mock-model', ...o, ...extra })));
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    mutatedJson,
    completionShaped,
    { arbitrary: validWithExtras, weight: 3 },
    fc.uint8Array({ minLength: 4_097, maxLength: 6_000 }),
  );
  const extraHeaders = fc.dictionary(
    token.filter(
      (n) =>
        !/^(content-length|transfer-encoding|host|connection|keep-alive|upgrade|expect|te|content-type)$/i.test(
          n,
        ),
    ),
    headerValue,
    { maxKeys: 4 },
  );

  it('fuzz/request-parsing', async () => {
    const runs = fuzzRuns('server');
    const seen = new Map<number, number>();
    const client = new Client(stack.url, { pipelining: 1 });
    try {
      await fc.assert(
        fc.asyncProperty(
          body,
          contentType,
          extraHeaders,
          fc.constantFrom('/v1/completions', '/v1/chat/completions', '/v1/completions?x=1'),
          async (payload, type, extra, path) => {
            const headers: Record<string, string> = { ...extra };
            if (type !== '') headers['content-type'] = type;
            const res = await client.request({ method: 'POST', path, headers, body: payload });
            await res.body.dump();
            seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
            expect(DOCUMENTED_REQUEST_STATUSES as readonly number[]).toContain(res.statusCode);
          },
        ),
        { numRuns: runs },
      );
    } finally {
      await client.close();
    }
    expect(stack.log.atLeast('error'), describeLines(stack.log.atLeast('error'))).toEqual([]);
    expect((await postCompletion(stack.url, completionBody(false))).status).toBe(200);
    const after = await stack.settle();
    expect(after).toMatchObject({ inFlight: 0, mockLoad: 0 });
    const spread = [...seen.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ');
    recorder.record({
      id: 'fuzz/request-parsing',
      observed: `${runs} runs: ${spread}; never 5xx; nothing logged at error; the router keeps serving`,
    });
  }, 120_000);
});
