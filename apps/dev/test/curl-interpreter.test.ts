import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { curlCommand } from '../src/banner.js';
import { CurlSyntaxError, parseCurlCommand, performCurl, splitShellWords } from './curl-interpreter.js';
import { findExecutable } from './executables.js';

const run = promisify(execFile);
const TIMEOUT_MS = 20_000;
const BODY = '{"model":"mock-model","messages":[{"role":"user","content":"it\'s"}],"max_tokens":16}';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A loopback server recording each request; `answer` writes the response. */
let server: Server;
let base: string;
let seen: Seen[];
let answer: (res: ServerResponse) => void;

beforeEach(async () => {
  seen = [];
  answer = (res) => res.end('{"ok":true}');
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('splitShellWords', () => {
  it('splits plain words, single quotes and backslash escapes as sh does', () => {
    expect(splitShellWords(`curl  -sS -w '\\n' x -d 'it'\\''s' ''`)).toEqual([
      'curl',
      '-sS',
      '-w',
      '\\n',
      'x',
      '-d',
      "it's",
      '',
    ]);
  });

  it.each([
    'curl "$HOME"',
    'curl x; rm y',
    'curl x | sh',
    'curl `id`',
    'curl x > out',
    "curl 'open",
    'curl x\\',
  ])('rejects what it does not understand: %s', (line) => {
    expect(() => splitShellWords(line)).toThrow(CurlSyntaxError);
  });
});

describe('parseCurlCommand', () => {
  it("reads the banner's non-streaming command", () => {
    const command = parseCurlCommand(curlCommand('http://127.0.0.1:10001', 'mock-model', false));
    expect(command.url.href).toBe('http://127.0.0.1:10001/v1/chat/completions');
    expect(command.method).toBe('POST');
    expect(command.headers).toEqual([['Content-Type', 'application/json']]);
    expect(JSON.parse(command.body ?? '')).toMatchObject({ model: 'mock-model', max_tokens: 16 });
    expect(command).toMatchObject({ noBuffer: false, silent: true, showError: true, writeOut: '\n' });
  });

  it("reads the banner's streaming command", () => {
    const command = parseCurlCommand(curlCommand('http://127.0.0.1:10001', 'mock-model', true));
    expect(JSON.parse(command.body ?? '')).toMatchObject({ stream: true });
    expect(command).toMatchObject({ noBuffer: true, silent: true, showError: true, writeOut: '' });
  });

  it('a command without -d is a GET', () => {
    expect(parseCurlCommand('curl -s http://127.0.0.1:1/v1/models').method).toBe('GET');
  });

  it.each([
    ['an unknown flag', 'curl -X POST http://127.0.0.1:1/'],
    ['an unknown flag in a cluster', 'curl -sSL http://127.0.0.1:1/'],
    ['a long flag', 'curl --data x http://127.0.0.1:1/'],
    ['a value glued to its flag', 'curl -dx http://127.0.0.1:1/'],
    ['-d from a file', 'curl -d @body.json http://127.0.0.1:1/'],
    ['a -w variable', "curl -w '%{http_code}' http://127.0.0.1:1/"],
    ['an unknown -w escape', "curl -w '\\x' http://127.0.0.1:1/"],
    ['a header without a value', "curl -H 'X-Empty:' http://127.0.0.1:1/"],
    ['a flag without its value', 'curl http://127.0.0.1:1/ -H'],
    ['two URLs', 'curl http://127.0.0.1:1/ http://127.0.0.1:2/'],
    ['no URL', 'curl -sS'],
    ['https', 'curl https://127.0.0.1:1/'],
    ['another program', 'wget http://127.0.0.1:1/'],
  ])('fails on %s', (_, line) => {
    expect(() => parseCurlCommand(line)).toThrow(CurlSyntaxError);
  });
});

describe('performCurl', () => {
  it('sends the method, path, headers and body as written; prints the answer then -w', async () => {
    answer = (res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"x"}');
    const line = `curl -sS -w '\\n' '${base}/v1/chat/completions?a=1' -H 'Content-Type: application/json' -H 'X-Trace: t 1' -d '${BODY.replaceAll("'", `'\\''`)}'`;
    const outcome = await performCurl(parseCurlCommand(line), { timeoutMs: TIMEOUT_MS });
    // An HTTP error is still exit 0, as curl without -f.
    expect(outcome).toEqual({ stdout: '{"error":"x"}\n', stderr: '', code: 0 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions?a=1', body: BODY });
    expect(seen[0]?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-trace': 't 1',
      'content-length': String(Buffer.byteLength(BODY)),
      accept: '*/*',
    });
  });

  it('-d without a Content-Type sends form data, as curl does; several -d are joined with &', async () => {
    await performCurl(parseCurlCommand(`curl -s ${base}/f -d a=1 -d b=2`), { timeoutMs: TIMEOUT_MS });
    expect(seen[0]).toMatchObject({ method: 'POST', body: 'a=1&b=2' });
    expect(seen[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('-N writes each chunk as it arrives, before the answer ends', async () => {
    let second: (() => void) | undefined;
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      second = () => res.end('data: [DONE]\n\n');
    };
    const written: string[] = [];
    const outcome = await performCurl(parseCurlCommand(`curl -N -sS ${base}/s`), {
      timeoutMs: TIMEOUT_MS,
      onStdout: (text) => {
        written.push(text);
        // The server sends the end only once the first event has been written out.
        if (text.includes('data: one')) second?.();
      },
    });
    expect(written).toEqual(['data: one\n\n', 'data: [DONE]\n\n']);
    expect(outcome).toEqual({ stdout: 'data: one\n\ndata: [DONE]\n\n', stderr: '', code: 0 });
  });

  it('a refused connection exits 7 with a message under -sS, and silently under -s', async () => {
    // Nothing listens on port 1 (privileged, never handed out as a free port).
    const loud = await performCurl(parseCurlCommand('curl -sS http://127.0.0.1:1/'), {
      timeoutMs: TIMEOUT_MS,
    });
    expect(loud.code).toBe(7);
    expect(loud.stderr).toMatch(/^curl: \(7\) /);
    const quiet = await performCurl(parseCurlCommand('curl -s http://127.0.0.1:1/'), {
      timeoutMs: TIMEOUT_MS,
    });
    expect(quiet).toEqual({ stdout: '', stderr: '', code: 7 });
  });

  it('does what curl itself does with the same printed line (when curl is installed)', async (ctx) => {
    if (findExecutable('curl') === undefined) return ctx.skip('curl is not on PATH: nothing to compare with');
    answer = (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"x"}');
    const line = curlCommand(base, 'mock-model', false);
    const viaCurl = await run('sh', ['-c', line], { timeout: TIMEOUT_MS });
    const interpreted = await performCurl(parseCurlCommand(line), { timeoutMs: TIMEOUT_MS });
    expect(interpreted).toEqual({ stdout: viaCurl.stdout, stderr: viaCurl.stderr, code: 0 });
    expect(seen).toHaveLength(2);
    const [byCurl, byUs] = seen;
    expect(byUs).toMatchObject({ method: byCurl?.method, url: byCurl?.url, body: byCurl?.body });
    for (const name of ['content-type', 'content-length', 'accept', 'host'])
      expect(byUs?.headers[name], name).toBe(byCurl?.headers[name]);
  });
});
