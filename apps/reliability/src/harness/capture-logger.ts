/** pino's numeric levels: what Fastify's logger writes as `level` in each JSON line. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export type LogLevelName = keyof typeof LOG_LEVELS;

export interface LogLine {
  readonly level: number;
  readonly msg: string | undefined;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * A pino-compatible logger (the interface Fastify's `loggerInstance` takes) that keeps every line
 * in memory, so a test can assert what was logged at which level: a crash shows up as an `error`
 * or `fatal` line (Fastify's "internal error", an uncaught handler error).
 *
 * @example
 * const log = new CaptureLogger();
 * const app = await buildServer(config, { logger: log.asFastifyLogger() });
 * expect(log.atLeast('error')).toEqual([]);
 */
export class CaptureLogger {
  readonly lines: LogLine[];
  readonly #bindings: Readonly<Record<string, unknown>>;
  level = 'trace';

  constructor(lines: LogLine[] = [], bindings: Readonly<Record<string, unknown>> = {}) {
    this.lines = lines;
    this.#bindings = bindings;
  }

  #write(level: number, a: unknown, b: unknown): void {
    let fields: Record<string, unknown> = { ...this.#bindings };
    let msg: string | undefined;
    if (typeof a === 'string') msg = a;
    else if (a instanceof Error) {
      fields['err'] = a;
      msg = typeof b === 'string' ? b : a.message;
    } else if (typeof a === 'object' && a !== null) {
      fields = { ...fields, ...(a as Record<string, unknown>) };
      msg = typeof b === 'string' ? b : undefined;
    }
    this.lines.push({ level, msg, fields });
  }

  fatal = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.fatal, a, b);
  error = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.error, a, b);
  warn = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.warn, a, b);
  info = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.info, a, b);
  debug = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.debug, a, b);
  trace = (a?: unknown, b?: unknown): void => this.#write(LOG_LEVELS.trace, a, b);
  silent = (): void => {};
  child = (bindings: Readonly<Record<string, unknown>>): CaptureLogger =>
    new CaptureLogger(this.lines, { ...this.#bindings, ...bindings });
  isLevelEnabled = (): boolean => true;

  /** Lines at `level` or above (e.g. `atLeast('error')`: anything that looks like a crash). */
  atLeast(level: LogLevelName): LogLine[] {
    const min = LOG_LEVELS[level];
    return this.lines.filter((line) => line.level >= min);
  }

  /** Forgets what was logged so far (between scenarios). */
  clear(): void {
    this.lines.length = 0;
  }

  /**
   * This object typed as whatever logger parameter the caller expects (Fastify's
   * `FastifyBaseLogger`, not a dependency of this package): it implements that interface.
   */
  as<T>(): T {
    return this as unknown as T;
  }
}

/** A short description of log lines, for assertion messages. */
export function describeLines(lines: readonly LogLine[]): string {
  return lines.map((l) => `[${l.level}] ${l.msg ?? ''} ${safeJson(l.fields)}`).join('\n');
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
  } catch {
    return String(value);
  }
}
