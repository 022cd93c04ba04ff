import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createResponseIdRewriter, publicRequestId, type ResponseIdRewriter } from './response-id.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

interface Answer {
  readonly name: string;
  readonly requestId: string;
  /** What vLLM answers: the captured answer, named after the request id as vLLM names it. */
  readonly vllm: Buffer;
  /** What the client must get: the same bytes with the id's random part only. */
  readonly expected: Buffer;
}

/**
 * The reference-proxy captures' decode answers, with their placeholder id (`capture-D-<port>`)
 * replaced by what vLLM writes there: `chatcmpl-`/`cmpl-` and the `X-Request-Id` the proxy sent.
 */
function capturedAnswers(): Answer[] {
  const root = `${FIXTURES}reference-proxy/`;
  const answers: Answer[] = [];
  for (const dir of readdirSync(root, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const files = readdirSync(root + dir.name);
    for (const body of files.filter((f) => /^client-response(-\d+)?\.body$/.test(f))) {
      const decode = body.replace('client-response', 'decode').replace('.body', '.http');
      if (!files.includes(decode)) continue;
      const head = readFileSync(`${root}${dir.name}/${decode}`, 'latin1');
      const requestId = /\r\nX-Request-Id: ([^\r]+)\r\n/.exec(head)?.[1];
      const text = readFileSync(`${root}${dir.name}/${body}`, 'latin1');
      if (requestId === undefined || !/cmpl-capture-D-\d+/.test(text)) continue;
      const hex = requestId.slice(requestId.lastIndexOf('_') + 1);
      answers.push({
        name: `${dir.name}/${body}`,
        requestId,
        vllm: Buffer.from(text.replace(/cmpl-capture-D-\d+/g, `cmpl-${requestId}`), 'latin1'),
        expected: Buffer.from(text.replace(/cmpl-capture-D-\d+/g, `cmpl-${hex}`), 'latin1'),
      });
    }
  }
  return answers;
}

function rewriterFor(requestId: string): ResponseIdRewriter {
  const rewriter = createResponseIdRewriter(requestId);
  if (rewriter === undefined) throw new Error(`no rewriter for ${requestId}`);
  return rewriter;
}

function run(requestId: string, chunks: readonly Uint8Array[]): Buffer {
  const rewriter = rewriterFor(requestId);
  const out = chunks.map((chunk) => rewriter.push(chunk));
  out.push(rewriter.end());
  return Buffer.concat(out);
}

const ANSWERS = capturedAnswers();
const ID = '___prefill_addr_10.0.0.1:21001___decode_addr_10.0.0.2:22001_41e0b7d8be7044fcb627f4de3cd27e82';

describe('publicRequestId', () => {
  it("is the random part of a P2P NCCL id, and nothing for an id without addresses (NIXL's uuid4)", () => {
    expect(publicRequestId(ID)).toBe('41e0b7d8be7044fcb627f4de3cd27e82');
    expect(publicRequestId('8787da25-9a1c-4f1e-8fa7-32227749f53c')).toBeUndefined();
    expect(createResponseIdRewriter('8787da25-9a1c-4f1e-8fa7-32227749f53c')).toBeUndefined();
    expect(publicRequestId('___prefill_addr_a:1___decode_addr_b:2_')).toBeUndefined();
  });
});

describe('ResponseIdRewriter on the captured answers', () => {
  it('has JSON and streamed answers of both routes to work on', () => {
    const names = ANSWERS.map((a) => a.name);
    expect(names).toContain('06-stream-chat/client-response.body');
    expect(names).toContain('06-stream-completions/client-response.body');
    expect(names).toContain('01-seed-chat/client-response.body');
    expect(names).toContain('01-seed-completions/client-response.body');
    expect(ANSWERS.length).toBeGreaterThanOrEqual(20);
  });

  it('rewrites every id in one piece and changes no other byte', () => {
    for (const answer of ANSWERS) {
      const rewriter = rewriterFor(answer.requestId);
      const out = Buffer.concat([rewriter.push(answer.vllm), rewriter.end()]);
      expect(out.toString('latin1'), answer.name).toBe(answer.expected.toString('latin1'));
      expect(out.includes('___prefill_addr_')).toBe(false);
      expect(answer.vllm.length - out.length).toBe(rewriter.replaced * rewriter.shrinkBy);
      expect(rewriter.seen).toBe(answer.vllm.length);
    }
  });

  it('gives the same bytes for a cut at every byte position', () => {
    for (const answer of ANSWERS) {
      const { vllm, expected } = answer;
      for (let cut = 0; cut <= vllm.length; cut++) {
        const out = run(answer.requestId, [vllm.subarray(0, cut), vllm.subarray(cut)]);
        if (!out.equals(expected)) expect(`${answer.name} cut at ${cut}: ${out.toString()}`).toBe('');
      }
    }
  });

  it('gives the same bytes fed one byte at a time, and never holds more than a partial id', () => {
    for (const answer of ANSWERS) {
      const rewriter = rewriterFor(answer.requestId);
      const longestId = `cmpl-${answer.requestId}"`.length;
      const out: Buffer[] = [];
      let inBytes = 0;
      let outBytes = 0;
      for (let i = 0; i < answer.vllm.length; i++) {
        const piece = rewriter.push(answer.vllm.subarray(i, i + 1));
        out.push(piece);
        inBytes += 1;
        outBytes += piece.length;
        // Held back: at most one partial id (plus what the rewrites removed).
        expect(inBytes - outBytes - rewriter.replaced * rewriter.shrinkBy).toBeLessThan(longestId);
      }
      out.push(rewriter.end());
      expect(Buffer.concat(out).equals(answer.expected), answer.name).toBe(true);
    }
  });

  it('gives the same bytes for any cuts into many pieces', () => {
    const streams = ANSWERS.filter((a) => a.name.includes('stream'));
    fc.assert(
      fc.property(fc.constantFrom(...streams), fc.array(fc.nat(), { maxLength: 40 }), (answer, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (answer.vllm.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of [...points, answer.vllm.length]) {
          chunks.push(answer.vllm.subarray(from, p));
          from = p;
        }
        expect(run(answer.requestId, chunks).equals(answer.expected)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ResponseIdRewriter on other bytes', () => {
  const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

  it('returns a chunk without an id as is, without copying it', () => {
    const rewriter = rewriterFor(ID);
    const chunk = bytes('data: {"choices": [{"delta": {"content": "cmpl"}}]}\n\n');
    expect(rewriter.push(chunk)).toBe(chunk);
    expect(rewriter.end().length).toBe(0);
  });

  it('leaves an id that is not exactly this request id alone (another hex, not closed by a quote)', () => {
    const other = ID.replace(/[0-9a-f]{32}$/, '0'.repeat(32));
    const text = `{"id": "chatcmpl-${other}", "note": "cmpl-${ID} is ours", "x": "cmpl-${ID}x"}`;
    expect(run(ID, [bytes(text)]).toString('latin1')).toBe(text);
  });

  it('rewrites the compact JSON vLLM writes (pydantic), several ids per chunk', () => {
    const event = (id: string): string =>
      `data: {"id":"chatcmpl-${id}","object":"chat.completion.chunk"}\n\n`;
    const hex = '41e0b7d8be7044fcb627f4de3cd27e82';
    expect(run(ID, [bytes(event(ID) + event(ID) + event(ID))]).toString('latin1')).toBe(
      event(hex) + event(hex) + event(hex),
    );
  });

  it('sends a partial id held at the end of a cut-off answer as it came', () => {
    const rewriter = rewriterFor(ID);
    const partial = bytes(`{"id": "chatcmpl-${ID.slice(0, 30)}`);
    const first = rewriter.push(partial);
    expect(first.toString('latin1')).toBe('{"id": "chat');
    expect(Buffer.concat([first, rewriter.end()]).equals(partial)).toBe(true);
  });

  it('takes Uint8Array chunks that are not Buffers', () => {
    const text = `{"id": "cmpl-${ID}"}`;
    const view = new Uint8Array(new TextEncoder().encode(text));
    expect(run(ID, [view.subarray(0, 9), view.subarray(9)]).toString('latin1')).toBe(
      '{"id": "cmpl-41e0b7d8be7044fcb627f4de3cd27e82"}',
    );
  });
});
