import type { IncomingHttpHeaders } from 'node:http';
import { ServerError } from '../errors.js';
import type { UpstreamErrorKind } from '../metrics.js';
import { checkDrainedStream } from '../stream/drained-stream.js';
import { prefillStatusError } from './error-text.js';
import {
  type LegEnv,
  type LegFailure,
  type LegRequest,
  transportFailure,
  UNDICI_BACKSTOP_MS,
  UpstreamHandler,
  workerName,
} from './leg.js';
import { decodeWhole, headerText } from './read-body.js';

/** Error bodies from a worker are read up to this size: enough for any vLLM message. */
export const ERROR_BODY_LIMIT_BYTES = 65_536;
/**
 * The tail of a 2xx event stream kept to check it ended well (an error event or a finish is in
 * its last events); a prefill's stream of one token is far smaller.
 */
const STREAM_TAIL_BYTES = 65_536;

export type CollectEnd =
  /** A 2xx answer, read whole (and, for an event stream, ended with a finish and no error event). */
  | 'ok'
  /** Any other answer, a transport failure or the budget spent: `failure` says which. */
  | 'failed'
  /** Aborted (the client left, or the connector gave up on the request): nothing is reported. */
  | 'aborted';

export interface CollectResult {
  readonly end: CollectEnd;
  /** The answer's status; 0 when none arrived. */
  readonly status: number;
  /** `ok`: the decoded body when the leg was asked to keep it; else undefined (drained). */
  readonly body: Buffer | undefined;
  /** `failed`: what went wrong and the client's error. */
  readonly failure: LegFailure | undefined;
  /** `ok`: from the request to the answer's last byte (ms); else -1. */
  readonly ms: number;
}

function onCollectTimeout(leg: CollectLeg): void {
  leg.timeout();
}

/**
 * A collect leg (the prefill): sends a request and reads the whole answer within one budget
 * (connecting, queueing, headers and body), then resolves `result` once. It owns its deadline,
 * classifies its failure once, and reports it to the registry (which counts the metric); a 2xx
 * is reported as a success and its duration observed, a 4xx too (the worker is fine, the request
 * is not). The worker's in-flight slot is released when the leg settles.
 *
 * A 2xx body is drained without being kept unless `keepBytes` > 0 (then one larger than that
 * fails the leg as a bad answer); an error body is kept up to ERROR_BODY_LIMIT_BYTES for its
 * message; the tail of a 2xx event stream is kept to check it: an error event (`data: {"error":
 * ...}` after the 200) or an end without a finish fails the leg (PD_ERR_PREFILL_STREAM_ERROR).
 *
 * @example
 * const leg = new CollectLeg(env, { worker, path, requestId, body }, 0);
 * leg.start();
 * const { end, failure } = await leg.result;
 */
export class CollectLeg extends UpstreamHandler {
  readonly result: Promise<CollectResult>;
  /** Set when the leg settles, before `result` resolves. */
  outcome: CollectResult | undefined;
  readonly #env: LegEnv;
  readonly #request: LegRequest;
  readonly #keepBytes: number;
  #resolve!: (result: CollectResult) => void;
  #start = 0;
  #timer: NodeJS.Timeout | undefined;
  #timedOut = false;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] | undefined;
  #size = 0;
  /** How the kept chunks are bounded: the first bytes (error bodies), all or fail (kept answers), the last bytes (streams). */
  #keep: 'head' | 'all' | 'tail' = 'head';
  #limit = 0;

  constructor(env: LegEnv, request: LegRequest, keepBytes: number) {
    super();
    this.#env = env;
    this.#request = request;
    this.#keepBytes = keepBytes;
    this.result = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Sends the request and starts the leg's budget. */
  start(): void {
    const budget = this.#env.budgets.collectMs;
    this.#start = performance.now();
    this.#timer = setTimeout(onCollectTimeout, budget, this);
    this.dispatch(this.#request, budget + UNDICI_BACKSTOP_MS, budget + UNDICI_BACKSTOP_MS);
  }

  /** The budget is spent (called by the leg's timer only). */
  timeout(): void {
    this.#timedOut = true;
    const error = new Error('leg budget spent');
    this.cancel(error);
    this.onResponseError(undefined, error);
  }

  protected aborted(): void {
    this.#settle('aborted', undefined, -1);
  }

  onResponseStart(_controller: unknown, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    this.#headers = headers;
    if (statusCode < 200 || statusCode > 299) {
      this.#chunks = [];
      this.#limit = ERROR_BODY_LIMIT_BYTES;
    } else if (this.#keepBytes > 0) {
      this.#chunks = [];
      this.#keep = 'all';
      this.#limit = this.#keepBytes;
    } else if (headerText(headers['content-type'])?.startsWith('text/event-stream') === true) {
      this.#chunks = [];
      this.#keep = 'tail';
      this.#limit = STREAM_TAIL_BYTES;
    }
  }

  onResponseData(_controller: unknown, chunk: Buffer): void {
    const chunks = this.#chunks;
    if (chunks === undefined || this.outcome !== undefined) return;
    if (this.#keep === 'head' && this.#size >= this.#limit) return;
    chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#keep === 'tail') {
      while (chunks.length > 1 && this.#size - (chunks[0]?.length ?? 0) >= this.#limit) {
        this.#size -= chunks.shift()?.length ?? 0;
      }
    } else if (this.#keep === 'all' && this.#size > this.#limit) {
      const error = new Error(`the answer is larger than ${this.#limit} bytes`);
      this.#fail('bad_response', this.#badAnswer(`answered more than ${this.#limit} bytes`, error));
      this.cancel(error);
    }
  }

  onResponseEnd(): void {
    if (this.outcome !== undefined) return;
    const status = this.#status;
    const body = this.#chunks === undefined ? undefined : this.#decoded(this.#chunks);
    if (status < 200 || status > 299) {
      const error = prefillStatusError(
        status,
        body ?? Buffer.alloc(0),
        workerName(this.#env, this.#request.worker),
        this.#headers,
      );
      // A 4xx is the request's fault: the worker is fine (a success for its circuit).
      if (status >= 400 && status < 500) this.#settle('failed', { kind: 'status', error }, -1, true);
      else this.#fail('status', error);
      return;
    }
    if (this.#keep === 'tail' && body !== undefined) {
      const problem = checkDrainedStream(body);
      if (problem !== undefined) {
        const name = workerName(this.#env, this.#request.worker);
        this.#fail('bad_response', new ServerError('PD_ERR_PREFILL_STREAM_ERROR', `${name} ${problem}`));
        return;
      }
    }
    this.#settle(
      'ok',
      undefined,
      performance.now() - this.#start,
      true,
      this.#keep === 'all' ? body : undefined,
    );
  }

  onResponseError(_controller: unknown, error: Error): void {
    if (this.outcome !== undefined) return;
    const failure = transportFailure(
      this.#env,
      this.#request.worker,
      this.#timedOut,
      error,
      this.#env.budgets.collectMs,
    );
    this.#fail(failure.kind, failure.error);
  }

  #badAnswer(what: string, cause: unknown): ServerError {
    return new ServerError(
      'PD_ERR_PREFILL_BAD_ANSWER',
      `${workerName(this.#env, this.#request.worker)} ${what}`,
      { cause },
    );
  }

  #decoded(chunks: Buffer[]): Buffer {
    const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    return decodeWhole(
      raw,
      headerText(this.#headers['content-encoding']),
      this.#keep === 'tail' ? Number.POSITIVE_INFINITY : this.#limit,
    );
  }

  #fail(kind: UpstreamErrorKind, error: ServerError): void {
    this.#settle('failed', { kind, error }, -1);
  }

  /** Settles once: reports the outcome to the registry (unless aborted), frees the worker's slot. */
  #settle(
    end: CollectEnd,
    failure: LegFailure | undefined,
    ms: number,
    success = false,
    body?: Buffer,
  ): void {
    if (this.outcome !== undefined) return;
    clearTimeout(this.#timer);
    const outcome: CollectResult = { end, status: this.#status, body, failure, ms };
    this.outcome = outcome;
    const { registry } = this.#env;
    const worker = this.#request.worker;
    if (end === 'ok') worker.metrics.latency.observe(ms / 1_000);
    if (success) registry.reportSuccess(worker);
    else if (failure !== undefined) registry.reportFailure(worker, failure.kind);
    registry.release(worker);
    this.#resolve(outcome);
  }
}
