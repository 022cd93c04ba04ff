import type { LoadProgress } from './load/generator.js';
import { formatInt } from './report/markdown.js';
import type { RunContext } from './runner.js';
import type { RunResult } from './types.js';

/**
 * The live progress line on stderr. On a terminal it is redrawn in place (`\r`, erase line); in a
 * log or CI (not a TTY) only finished runs and phase messages are printed, one line each, so logs
 * are not flooded with carriage returns.
 */
export class ProgressLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  #dirty = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  get isTTY(): boolean {
    return this.#tty;
  }

  /** A transient update (drawn only on a terminal). */
  update(text: string): void {
    if (!this.#tty) return;
    const width = this.#stream.columns ?? 120;
    this.#stream.write(`\r\x1b[2K${text.length > width - 1 ? text.slice(0, width - 1) : text}`);
    this.#dirty = true;
  }

  /** A line that stays. */
  line(text: string): void {
    if (this.#dirty) this.#stream.write('\r\x1b[2K');
    this.#dirty = false;
    this.#stream.write(`${text}\n`);
  }

  /** Clears a pending transient line. */
  end(): void {
    if (this.#dirty) this.#stream.write('\r\x1b[2K');
    this.#dirty = false;
  }
}

/** `chat-short c=64 · pd-router · round 1/2 · measure 3.1/5.0 s · 12,345 ok · 0 err · 4,012 req/s` */
export function progressText(context: RunContext, progress: LoadProgress): string {
  const seconds = progress.elapsedMs / 1000;
  return (
    `${context.scenario} ${context.point} · ${context.target} · round ${context.round}/${context.rounds} · ` +
    `${context.phase} ${seconds.toFixed(1)}/${(context.durationMs / 1000).toFixed(1)} s · ` +
    `${formatInt(progress.ok)} ok · ${formatInt(progress.failed)} err · ${progress.inFlight} in flight · ` +
    `${formatInt(progress.ok / Math.max(seconds, 0.001))} req/s`
  );
}

/** The line kept for a finished run. */
export function runSummaryText(context: RunContext, run: RunResult): string {
  const mean = run.latency.count === 0 ? 0 : run.latency.sumUs / run.latency.count / 1000;
  const requests = Math.max(1, run.ok + run.failed);
  const cpu =
    run.targetCpuMs === null
      ? ''
      : ` · ${formatInt((run.targetCpuMs * 1000) / requests)} µs CPU/req ` +
        `(sys ${formatInt(((run.targetSystemCpuMs ?? 0) * 1000) / requests)})`;
  return (
    `${context.scenario} ${context.point} · ${context.target} · round ${context.round}/${context.rounds}: ` +
    `${formatInt(run.requestsPerS)} req/s · mean ${mean.toFixed(2)} ms · ${formatInt(run.ok)} ok · ` +
    `${formatInt(run.failed)} err${cpu}`
  );
}
