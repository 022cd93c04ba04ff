import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalRequest, prefillBody } from '../src/canonical-json.js';

// The reference proxy's captures, copied into the repo: every prefill and decode body it sent
// upstream must come out of our canonicalizer byte for byte, from the client's bytes.
const FIXTURES = fileURLToPath(new URL('../../../fixtures/reference-proxy/', import.meta.url));
const HEADER_END = Buffer.from('\r\n\r\n');

interface Capture {
  readonly file: string;
  readonly role: 'prefill' | 'decode';
  readonly body: Buffer;
  readonly contentLength: number;
}

/** The body of a raw HTTP request capture: everything after the first blank line. */
function readCapture(dir: string, file: string): Capture {
  const bytes = readFileSync(`${FIXTURES}${dir}/${file}`);
  const end = bytes.indexOf(HEADER_END);
  if (end < 0) throw new Error(`${dir}/${file}: no \\r\\n\\r\\n after the headers`);
  const headers = bytes.subarray(0, end).toString('latin1');
  const length = /\r\ncontent-length: *(\d+)/i.exec(headers)?.[1];
  return {
    file,
    role: file.startsWith('prefill') ? 'prefill' : 'decode',
    body: bytes.subarray(end + HEADER_END.length),
    contentLength: Number(length),
  };
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()
  .map((dir) => {
    const files = readdirSync(`${FIXTURES}${dir}`).filter((f) => /^(prefill|decode)(-\d+)?\.http$/.test(f));
    return {
      dir,
      client: readFileSync(`${FIXTURES}${dir}/client-request.json`),
      captures: files.map((file) => readCapture(dir, file)),
    };
  });

describe('golden bodies of the reference proxy', () => {
  it('finds the fixture cases (so this file cannot silently check nothing)', () => {
    expect(cases.length).toBeGreaterThan(25);
    for (const c of cases) {
      expect(c.captures.filter((x) => x.role === 'prefill').length, c.dir).toBeGreaterThan(0);
      expect(c.captures.filter((x) => x.role === 'decode').length, c.dir).toBeGreaterThan(0);
    }
  });

  it.each(cases)('$dir', ({ dir, client, captures }) => {
    const request = canonicalRequest(client);
    if (!request.ok) throw new Error(`${dir}: ${request.error.message}`);
    const prefill = prefillBody(client);
    const decode = canonicalize(client);
    for (const capture of captures) {
      expect(capture.body.length, `${dir}/${capture.file} Content-Length`).toBe(capture.contentLength);
      const expected = capture.body.toString('latin1');
      if (capture.role === 'prefill') {
        expect(request.value.prefill, `${dir}/${capture.file}`).toBe(expected);
        expect(prefill.ok && prefill.value, `${dir}/${capture.file}`).toBe(expected);
      } else {
        expect(request.value.decode, `${dir}/${capture.file}`).toBe(expected);
        expect(decode.ok && decode.value, `${dir}/${capture.file}`).toBe(expected);
      }
    }
  });
});
