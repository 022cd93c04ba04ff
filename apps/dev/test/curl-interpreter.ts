import { request } from 'undici';

/**
 * A strict stand-in for `sh -c 'curl ...'`, for machines with Node but no curl. It understands exactly
 * what the dev banner prints (single-quoted words; `-sS`, `-N`, `-w`, `-H`, `-d` and one http URL) and
 * rejects anything else, so a banner that starts printing something new fails here instead of being
 * silently misread.
 */

/** The request and output behaviour a printed curl command asks for. */
export interface CurlCommand {
  readonly url: URL;
  readonly method: 'GET' | 'POST';
  /** In command-line order, names as written. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string | undefined;
  /** `-N`: every chunk of the answer is written as it arrives. */
  readonly noBuffer: boolean;
  /** `-s`: no progress meter and no error message (unless `-S`). */
  readonly silent: boolean;
  /** `-S`: with `-s`, still print an error message. */
  readonly showError: boolean;
  /** `-w`, its backslash escapes resolved: written after the body. */
  readonly writeOut: string;
}

export interface CurlOutcome {
  readonly stdout: string;
  readonly stderr: string;
  /** curl's exit status: 0, 7 (could not connect), 28 (timed out) or 56 (failure while receiving). */
  readonly code: number;
}

/** Characters with a shell meaning beyond plain words, quotes and backslashes: rejected. */
const SHELL_SPECIAL = new Set([...'"$`;&|<>(){}*?[]~#!\n\r']);
const SHORT_FLAGS = new Set(['s', 'S', 'N']);
const HEADER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(\S(?:.*\S)?)[ \t]*$/;
const WRITE_OUT_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

export class CurlSyntaxError extends Error {
  override readonly name = 'CurlSyntaxError';
}

/**
 * Splits one command line into words as a POSIX shell does, for the subset the banner uses:
 * unquoted words, single quotes and backslash escapes outside quotes (so `'it'\''s'` is `it's`).
 *
 * @example
 * splitShellWords(`curl -H 'A: b' x`); // ['curl', '-H', 'A: b', 'x']
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new CurlSyntaxError(`unterminated single quote in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new CurlSyntaxError(`trailing backslash in: ${line}`);
      i++;
      word += line[i];
      inWord = true;
    } else if (SHELL_SPECIAL.has(c)) {
      throw new CurlSyntaxError(`unsupported shell syntax ${JSON.stringify(c)} in: ${line}`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function resolveWriteOut(format: string): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i] ?? '';
    if (c === '%') throw new CurlSyntaxError(`unsupported -w variable in ${JSON.stringify(format)}`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const escaped = WRITE_OUT_ESCAPES[format[i + 1] ?? ''];
    if (escaped === undefined)
      throw new CurlSyntaxError(`unsupported -w escape in ${JSON.stringify(format)}`);
    out += escaped;
    i++;
  }
  return out;
}

/**
 * Parses a printed `curl ...` line; throws CurlSyntaxError on any flag or form the banner does not print.
 *
 * @example
 * parseCurlCommand(`curl -sS http://127.0.0.1:1/v1/models`).method; // 'GET'
 */
export function parseCurlCommand(line: string): CurlCommand {
  const words = splitShellWords(line.trim());
  if (words[0] !== 'curl') throw new CurlSyntaxError(`not a curl command: ${line}`);
  const headers: [string, string][] = [];
  const data: string[] = [];
  let url: URL | undefined;
  let writeOut = '';
  const flags = new Set<string>();
  for (let i = 1; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '-w' || word === '-H' || word === '-d') {
      const value = words[++i];
      if (value === undefined) throw new CurlSyntaxError(`${word} needs a value: ${line}`);
      if (word === '-w') writeOut = resolveWriteOut(value);
      else if (word === '-d') {
        if (value.startsWith('@')) throw new CurlSyntaxError(`-d @file is not supported: ${line}`);
        data.push(value);
      } else {
        const m = HEADER.exec(value);
        if (m === null) throw new CurlSyntaxError(`unsupported header ${JSON.stringify(value)}`);
        headers.push([m[1] ?? '', m[2] ?? '']);
      }
    } else if (word.startsWith('-') && word.length > 1) {
      for (const flag of word.slice(1)) {
        if (!SHORT_FLAGS.has(flag))
          throw new CurlSyntaxError(`unsupported curl flag ${JSON.stringify(word)}`);
        flags.add(flag);
      }
    } else {
      if (url !== undefined) throw new CurlSyntaxError(`more than one URL: ${line}`);
      if (!/^http:\/\/[^/]/.test(word)) throw new CurlSyntaxError(`unsupported URL ${JSON.stringify(word)}`);
      url = new URL(word);
    }
  }
  if (url === undefined) throw new CurlSyntaxError(`no URL: ${line}`);
  return {
    url,
    // curl -d: a POST, several -d joined with '&'.
    method: data.length > 0 ? 'POST' : 'GET',
    headers,
    body: data.length > 0 ? data.join('&') : undefined,
    noBuffer: flags.has('N'),
    silent: flags.has('s'),
    showError: flags.has('S'),
    writeOut,
  };
}

/** The headers curl sends: its own defaults, replaced by any `-H` of the same name. */
function requestHeaders(command: CurlCommand): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': 'curl (pd-router dev tests interpreter)',
    accept: '*/*',
  };
  if (command.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  for (const [name, value] of command.headers) headers[name.toLowerCase()] = value;
  return headers;
}

function exitCodeFor(error: unknown, received: boolean): number {
  if (error instanceof Error && error.name === 'TimeoutError') return 28;
  return received ? 56 : 7;
}

/**
 * Performs a parsed command with undici, as curl would: the body written to stdout (chunk by chunk with
 * `-N`, else at the end), then the `-w` text; HTTP error statuses still exit 0, as curl without `-f`.
 * `onStdout` sees the output as it is written.
 */
export async function performCurl(
  command: CurlCommand,
  { timeoutMs, onStdout }: { readonly timeoutMs: number; readonly onStdout?: (text: string) => void },
): Promise<CurlOutcome> {
  let stdout = '';
  const write = (text: string): void => {
    if (text === '') return;
    stdout += text;
    onStdout?.(text);
  };
  const decoder = new TextDecoder();
  let buffered = '';
  let received = false;
  try {
    const response = await request(command.url, {
      method: command.method,
      headers: requestHeaders(command),
      body: command.body ?? null,
      signal: AbortSignal.timeout(timeoutMs),
    });
    received = true;
    for await (const chunk of response.body) {
      const text = decoder.decode(chunk as Buffer, { stream: true });
      if (command.noBuffer) write(text);
      else buffered += text;
    }
    write(buffered + decoder.decode());
    write(command.writeOut);
    return { stdout, stderr: '', code: 0 };
  } catch (error) {
    write(buffered);
    const code = exitCodeFor(error, received);
    const message = error instanceof Error ? error.message : String(error);
    const stderr = !command.silent || command.showError ? `curl: (${code}) ${message}\n` : '';
    return { stdout, stderr, code };
  }
}
