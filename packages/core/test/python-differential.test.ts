import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../src/canonical-json.js';
import { createRandom, mutate, pythonBytesVariant, validDocument } from './support/random-json.js';

// Differential test against the real python3: every generated document goes through
// json.dumps(json.loads(body.decode('utf-8', errors='replace'))) (mode r, what the reference proxy
// does) or json.dumps(json.loads(body)) (mode b, our 'python-bytes'), and our canonicalize must
// accept exactly what Python accepts and produce the same bytes. All documents go to ONE python3
// process. Reproduce a failure with PD_DIFF_SEED=<seed printed in the failure>.
const UTF8_DOCUMENTS = 5_000;
const BYTES_DOCUMENTS = 1_000;

const PYTHON = `
import sys, json, base64
if not hasattr(sys.int_info, 'default_max_str_digits'):
    sys.exit('python3 >= 3.11 is required (the reference proxy runs 3.11: ints over 4300 digits fail)')
out = []
for line in sys.stdin.buffer.read().split(b'\\n'):
    if not line:
        continue
    body = base64.b64decode(line[1:])
    try:
        value = json.loads(body.decode('utf-8', errors='replace') if line[:1] == b'r' else body)
        out.append('OK ' + json.dumps(value))
    except RecursionError:
        out.append('ERR RecursionError')
    except ValueError as e:
        out.append('ERR ' + type(e).__name__)
sys.stdout.write('\\n'.join(out) + '\\n')
`;

/** Our error code for each exception Python raises. */
const EXPECTED_CODE: Record<string, string> = {
  JSONDecodeError: 'PD_ERR_JSON_SYNTAX',
  ValueError: 'PD_ERR_JSON_SYNTAX', // int with more than 4300 digits
  UnicodeDecodeError: 'PD_ERR_JSON_ENCODING',
  RecursionError: 'PD_ERR_JSON_TOO_DEEP',
};

interface Doc {
  readonly mode: 'r' | 'b';
  readonly bytes: Uint8Array;
}

function generate(seed: number): Doc[] {
  const r = createRandom(seed);
  const encoder = new TextEncoder();
  const docs: Doc[] = [];
  for (let i = 0; i < UTF8_DOCUMENTS; i++) {
    const bytes = encoder.encode(validDocument(r));
    docs.push({ mode: 'r', bytes: r.chance(0.3) ? mutate(r, bytes) : bytes });
  }
  for (let i = 0; i < BYTES_DOCUMENTS; i++) {
    const bytes = pythonBytesVariant(r, validDocument(r));
    docs.push({ mode: 'b', bytes: r.chance(0.4) ? mutate(r, bytes) : bytes });
  }
  return docs;
}

function runPython(docs: readonly Doc[]): string[] {
  const input = docs.map((d) => d.mode + Buffer.from(d.bytes).toString('base64')).join('\n') + '\n';
  const child = spawnSync('python3', ['-c', PYTHON], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (child.error !== undefined) {
    throw new Error(`python3 is required by this test and could not be run: ${child.error.message}`);
  }
  if (child.status !== 0) throw new Error(`python3 exited with ${child.status}: ${child.stderr}`);
  return child.stdout.split('\n').slice(0, -1);
}

function describeDoc(doc: Doc): string {
  const text = Buffer.from(doc.bytes).toString('hex');
  return `mode ${doc.mode}, ${doc.bytes.length} bytes: ${text.length > 400 ? text.slice(0, 400) + '…' : text}`;
}

describe('differential test against python3 json', () => {
  it(`agrees with python3 on ${UTF8_DOCUMENTS + BYTES_DOCUMENTS} random documents`, () => {
    const seed =
      process.env['PD_DIFF_SEED'] === undefined ? randomInt(2 ** 31) : Number(process.env['PD_DIFF_SEED']);
    const docs = generate(seed);
    const expected = runPython(docs);
    expect(expected.length, 'one python3 result per document').toBe(docs.length);

    const mismatches: string[] = [];
    let accepted = 0;
    docs.forEach((doc, i) => {
      const python = expected[i] as string;
      const ours = canonicalize(doc.bytes, doc.mode === 'b' ? { encoding: 'python-bytes' } : {});
      if (python.startsWith('OK ')) {
        accepted++;
        if (!ours.ok || ours.value !== python.slice(3)) {
          const got = ours.ok ? ours.value : `${ours.error.code} ${ours.error.message}`;
          mismatches.push(`${describeDoc(doc)}\n  python: ${python}\n  ours:   ${got}`);
        }
      } else {
        const code = EXPECTED_CODE[python.slice(4)];
        if (ours.ok || ours.error.code !== code) {
          const got = ours.ok ? `OK ${ours.value}` : ours.error.code;
          mismatches.push(`${describeDoc(doc)}\n  python: ${python} (${code})\n  ours:   ${got}`);
        }
      }
    });

    const report = `seed ${seed} (rerun with PD_DIFF_SEED=${seed}): ${mismatches.length} mismatches\n`;
    expect(mismatches.length, report + mismatches.slice(0, 5).join('\n')).toBe(0);
    // Both outcomes must be well represented, or the test would prove little.
    expect(accepted, `seed ${seed}`).toBeGreaterThan(docs.length * 0.5);
    expect(docs.length - accepted, `seed ${seed}`).toBeGreaterThan(docs.length * 0.1);
  }, 120_000);
});
