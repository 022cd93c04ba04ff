import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';

/** pino's levels are 10 (trace) to 60 (fatal), in steps of 10. */
const LEVEL_NAMES = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
/** Fields a text line shows in front (time, level, message) or drops (the same on every line). */
const FRONT_FIELDS: ReadonlySet<string> = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * One pino JSON line as plain text: `2026-01-01T00:00:00.000Z INFO message key=value ...`, each
 * value bare when it is a plain word, else JSON-quoted, so a line greps and splits on spaces.
 *
 * @example textLine('{"level":30,"time":0,"msg":"hi","status":200}\n'); // '1970-01-01T00:00:00.000Z INFO hi status=200\n'
 */
export function textLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record['time'] === 'number' ? new Date(record['time']).toISOString() : '-';
  const level = LEVEL_NAMES[(record['level'] as number) / 10 - 1] ?? String(record['level']);
  let line = `${time} ${level} ${typeof record['msg'] === 'string' ? record['msg'] : ''}`;
  for (const [key, value] of Object.entries(record)) {
    if (FRONT_FIELDS.has(key) || value === undefined) continue;
    const text = typeof value === 'string' && /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
    line += ` ${key}=${text}`;
  }
  return `${line}\n`;
}

export interface LogOutputOptions {
  readonly format: 'json' | 'text';
  /** Also append every line to DIR/pd-router.log. */
  readonly dir: string | undefined;
  readonly stdout?: Writable;
}

/**
 * Where the router's log lines go: standard output, and with `--log-dir` a file too, in `json` or
 * `text`. Lines arrive batched (BatchedLogDestination); the file is written synchronously, so the
 * last lines before an exit are not lost.
 *
 * @example new BatchedLogDestination(createLogOutput({ format: 'text', dir: '/var/log/pd-router' }));
 */
export function createLogOutput(options: LogOutputOptions): Writable {
  const stdout = options.stdout ?? process.stdout;
  if (options.format === 'json' && options.dir === undefined) return stdout;
  let fd: number | undefined;
  if (options.dir !== undefined) {
    mkdirSync(options.dir, { recursive: true });
    fd = openSync(join(options.dir, 'pd-router.log'), 'a');
  }
  const file = fd;
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      if (options.format === 'text')
        text = text
          .split(/(?<=\n)/)
          .map(textLine)
          .join('');
      if (file !== undefined) writeSync(file, text);
      stdout.write(text);
      callback();
    },
    final(callback) {
      if (file !== undefined) closeSync(file);
      callback();
    },
  });
}
