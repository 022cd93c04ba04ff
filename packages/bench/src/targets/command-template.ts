import { BenchError } from '../errors.js';

/**
 * A command that starts a proxy in front of the mock cluster, e.g. the `--compare` value
 * `vllm-proxy=python3 proxy.py --prefill {prefill_url} --decode {decode_url} --port {port}`.
 *
 * The command is split like a POSIX shell would split words (quotes and backslashes), but no
 * shell runs it: its pid is then the proxy's own, which /proc needs to measure it. Leading
 * `NAME=value` words set environment variables; for pipes and the like, use `sh -c '...'`.
 */
export interface CommandTemplate {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly argv: readonly string[];
}

/** The placeholders a template may use, and what they become. */
export const PLACEHOLDERS: Readonly<Record<string, string>> = {
  prefill: 'prefill worker as pd-router/vllm-router take it: http://127.0.0.1:P:zmq://127.0.0.1:Z',
  decode: 'decode worker, same form',
  prefill_url: 'http://127.0.0.1:P',
  decode_url: 'http://127.0.0.1:P',
  prefill_host: '127.0.0.1',
  decode_host: '127.0.0.1',
  prefill_port: 'HTTP port of the prefill mock',
  decode_port: 'HTTP port of the decode mock',
  prefill_kv: 'ZeroMQ KV address host:port of the prefill mock',
  decode_kv: 'ZeroMQ KV address host:port of the decode mock',
  prefill_kv_port: 'ZeroMQ KV port of the prefill mock',
  decode_kv_port: 'ZeroMQ KV port of the decode mock',
  host: 'address the proxy must listen on (127.0.0.1)',
  port: 'port the proxy must listen on (free, chosen by the bench)',
};

const PLACEHOLDER_RE = /\{([a-z_]+)\}/g;
const ENV_WORD_RE = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * Splits a command line into words: whitespace separates; '...' is literal; "..." allows \" \\ \$ \`;
 * a backslash outside quotes escapes the next character.
 *
 * @example splitCommand(`node cli.js --name 'a b'`); // ['node', 'cli.js', '--name', 'a b']
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!))
        word += command[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new BenchError('PD_ERR_BENCH_USAGE', `unterminated ${quote} in: ${command}`);
  if (inWord) words.push(word);
  return words;
}

function checkPlaceholders(name: string, words: readonly string[]): void {
  for (const word of words) {
    for (const match of word.matchAll(PLACEHOLDER_RE)) {
      if (!(match[1]! in PLACEHOLDERS)) {
        throw new BenchError(
          'PD_ERR_BENCH_USAGE',
          `target "${name}": unknown placeholder {${match[1]}}; known: ${Object.keys(PLACEHOLDERS).join(', ')}`,
        );
      }
    }
  }
}

/** A template from a name and a command line (validated: words, placeholders, a program). */
export function commandTemplate(name: string, command: string): CommandTemplate {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new BenchError('PD_ERR_BENCH_USAGE', `target name "${name}": use letters, digits, '.', '_' or '-'`);
  }
  const words = splitCommand(command);
  const env: Record<string, string> = {};
  while (words.length > 0 && ENV_WORD_RE.test(words[0]!)) {
    const word = words.shift()!;
    const eq = word.indexOf('=');
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  if (words.length === 0) throw new BenchError('PD_ERR_BENCH_USAGE', `target "${name}": empty command`);
  checkPlaceholders(name, [...words, ...Object.values(env)]);
  if (!words.some((w) => w.includes('{port}')) && !Object.values(env).some((v) => v.includes('{port}'))) {
    throw new BenchError(
      'PD_ERR_BENCH_USAGE',
      `target "${name}": the command must contain {port} (the bench picks the port it connects to)`,
    );
  }
  return { name, env, argv: words };
}

/**
 * Parses a `--compare` value, `NAME=COMMAND`.
 *
 * @example parseCompare('py=python3 proxy.py --port {port}').argv; // ['python3', 'proxy.py', '--port', '{port}']
 */
export function parseCompare(spec: string): CommandTemplate {
  const eq = spec.indexOf('=');
  if (eq <= 0) {
    throw new BenchError('PD_ERR_BENCH_USAGE', `--compare expects NAME=COMMAND, got: ${spec}`);
  }
  return commandTemplate(spec.slice(0, eq).trim(), spec.slice(eq + 1));
}

/** Replaces every `{placeholder}` of the template with its value. */
export function expandTemplate(
  template: CommandTemplate,
  values: Readonly<Record<string, string>>,
): { argv: string[]; env: Record<string, string> } {
  const expand = (word: string): string =>
    word.replace(PLACEHOLDER_RE, (whole, key: string) => values[key] ?? whole);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(template.env)) env[k] = expand(v);
  return { argv: template.argv.map(expand), env };
}
