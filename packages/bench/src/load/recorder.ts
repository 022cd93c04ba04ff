import { Histogram } from '../stats/histogram.js';
import type { ErrorKind } from './error-kind.js';
import { SseCounter, type SseEventKind } from './sse-counter.js';

/**
 * Everything measured during one run (one load level against one target): latency, time to first
 * token and inter-token latency histograms, success and error counts, tokens and bytes.
 *
 * @example
 * const recorder = new RunRecorder();
 * // ... runLoad fills it through RequestProbes ...
 * console.log(recorder.ok, recorder.latency.percentile(99), Object.fromEntries(recorder.errors));
 */
export class RunRecorder {
  /** Whole-request latency (µs), successes only. */
  readonly latency = new Histogram();
  /** Streams: request start to the first token event (µs). */
  readonly ttft = new Histogram();
  /** Streams: gap between successive token events (µs); events in one read count as 0. */
  readonly itl = new Histogram();
  ok = 0;
  failed = 0;
  /** Requests still running when the run was cut off (not counted as errors of the target). */
  unfinished = 0;
  tokens = 0;
  bytes = 0;
  readonly errors = new Map<ErrorKind, number>();

  addError(kind: ErrorKind): void {
    this.failed++;
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }
}

/**
 * The measurement of one logical request. Targets feed it the bytes of the response the client
 * sees (for the floor, the decode's), and finish it exactly once.
 *
 * @example
 * const probe = new RequestProbe(recorder, performance.now(), true, () => next());
 * probe.body(chunk, performance.now()); // as the answer arrives
 * probe.complete(performance.now());    // or probe.fail('http_502')
 */
export class RequestProbe {
  readonly #recorder: RunRecorder;
  readonly #startMs: number;
  readonly #sse: SseCounter | undefined;
  #lastTokenMs = -1;
  #bytes = 0;
  #tokens = 0;
  #sawDone = false;
  #errorEvent = false;
  #nowMs = 0;
  #finished = false;
  readonly #onFinish: (probe: RequestProbe) => void;
  readonly #onEvent = (kind: SseEventKind): void => {
    if (kind === 'token') {
      this.#tokens++;
      if (this.#lastTokenMs < 0) this.#recorder.ttft.record((this.#nowMs - this.#startMs) * 1000);
      else this.#recorder.itl.record((this.#nowMs - this.#lastTokenMs) * 1000);
      this.#lastTokenMs = this.#nowMs;
    } else if (kind === 'done') this.#sawDone = true;
    else this.#errorEvent = true;
  };

  /**
   * `startMs` is `performance.now()` at the intended start (open loop: the scheduled time);
   * `onFinish` runs once, after the outcome is recorded.
   */
  constructor(
    recorder: RunRecorder,
    startMs: number,
    stream: boolean,
    onFinish: (probe: RequestProbe) => void,
  ) {
    this.#recorder = recorder;
    this.#startMs = startMs;
    this.#sse = stream ? new SseCounter() : undefined;
    this.#onFinish = onFinish;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** A chunk of the client-visible response body arrived at `nowMs`. */
  body(chunk: Uint8Array, nowMs: number): void {
    this.#bytes += chunk.length;
    if (this.#sse !== undefined) {
      this.#nowMs = nowMs;
      this.#sse.push(chunk, this.#onEvent);
    }
  }

  /** The response ended at `nowMs` (after a 200); checks it is complete and records it. */
  complete(nowMs: number): void {
    const problem =
      this.#sse === undefined
        ? this.#bytes === 0
          ? 'empty_body'
          : undefined
        : this.#errorEvent
          ? 'stream_error_event'
          : this.#sawDone
            ? undefined
            : 'stream_truncated';
    if (problem !== undefined) {
      this.fail(problem);
      return;
    }
    if (this.#finished) return;
    this.#finished = true;
    const r = this.#recorder;
    r.ok++;
    r.tokens += this.#tokens;
    r.bytes += this.#bytes;
    r.latency.record((nowMs - this.#startMs) * 1000);
    this.#onFinish(this);
  }

  /** The request failed; only the first outcome of a probe counts. */
  fail(kind: ErrorKind): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#recorder.addError(kind);
    this.#onFinish(this);
  }

  /** The run ended before this request did. */
  cutOff(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#recorder.unfinished++;
    this.#onFinish(this);
  }
}
