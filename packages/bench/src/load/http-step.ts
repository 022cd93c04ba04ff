import type { Dispatcher } from 'undici';
import { errorKindOf, httpStatusKind } from './error-kind.js';
import type { RequestProbe } from './recorder.js';

/**
 * One HTTP exchange of a logical request, on undici's low-level `dispatch` API.
 *
 * `dispatch` with a handler object avoids the Readable stream and promise that `request()` makes
 * per request: the generator competes with the router for the same cores, so what it spends is
 * taken from the thing measured.
 */
export interface StepOptions {
  readonly dispatcher: Dispatcher;
  readonly options: Dispatcher.DispatchOptions;
  readonly probe: RequestProbe;
  /** True when this step's response is the one the client sees (its bytes are measured). */
  readonly measured: boolean;
  /** Runs after a 200 answer has been read to the end, instead of completing the probe. */
  readonly next?: (body: Buffer | undefined) => void;
  /** Keep a 200 answer's body for `next` (the NIXL floor reads the prefill's kv_transfer_params). */
  readonly collect?: boolean;
}

class StepHandler implements Dispatcher.DispatchHandler {
  readonly #step: StepOptions;
  #status = 0;
  #chunks: Buffer[] | undefined;

  constructor(step: StepOptions) {
    this.#step = step;
  }

  // undici treats a handler without onRequestStart as the deprecated (v6) handler API.
  onRequestStart(): void {}

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
    if (this.#step.collect === true && statusCode === 200) this.#chunks = [];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#step.measured && this.#status === 200) this.#step.probe.body(chunk, performance.now());
    this.#chunks?.push(chunk);
  }

  onResponseEnd(): void {
    const { probe, next, measured } = this.#step;
    if (probe.finished) return;
    if (this.#status !== 200) {
      probe.fail(httpStatusKind(this.#status, measured ? undefined : 'prefill'));
    } else if (next !== undefined) next(this.#chunks === undefined ? undefined : Buffer.concat(this.#chunks));
    else probe.complete(performance.now());
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const { probe, measured } = this.#step;
    if (probe.finished) return;
    const kind = errorKindOf(error);
    probe.fail(measured ? kind : `prefill_${kind}`);
  }
}

/**
 * Sends one request; the probe is finished (or `next` called) when the answer has been read.
 *
 * @example
 * sendStep({ dispatcher: pool, options: { path: '/v1/completions', method: 'POST', body }, probe, measured: true });
 */
export function sendStep(step: StepOptions): void {
  try {
    step.dispatcher.dispatch(step.options, new StepHandler(step));
  } catch (error) {
    // dispatch throws synchronously on a closed or destroyed dispatcher.
    if (!step.probe.finished) step.probe.fail(errorKindOf(error));
  }
}
