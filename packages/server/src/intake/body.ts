import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { ServerError } from '../errors.js';

/** How a request body is read: its size limit and its deadlines. */
export interface BodyIntakeOptions {
  /** Largest body in bytes (`--max-payload-size`). */
  readonly limit: number;
  /** The whole body must arrive within this many ms of the start of its reading (`--body-timeout-ms`). */
  readonly timeoutMs: number;
  /** Bytes per second a body must keep up, measured over each `rateWindowMs` (`--body-min-rate`; 0: off). */
  readonly minRate: number;
  /** The window of the minimum rate. */
  readonly rateWindowMs: number;
}

/** The minimum rate is measured over windows this long: a body may pause shorter than that. */
export const BODY_RATE_WINDOW_MS = 10_000;
/** Pending bodies are checked against their deadlines this often. */
const CHECK_INTERVAL_MS = 1_000;
/** The first buffer of a large or chunked body, and the least a buffer grows to. */
const FIRST_BUFFER_BYTES = 16 * 1024;
/** Bodies announcing at most this many bytes get their whole buffer with the first chunk. */
const EXACT_BUFFER_MAX_BYTES = 64 * 1024;

type Done = (error: Error | null, body?: Buffer) => void;

/** `request body is larger than N bytes`, the wording of every 413 the router sends. */
export function payloadTooLarge(limit: number): ServerError {
  return new ServerError('PD_ERR_PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`);
}

/**
 * One body being read into one buffer: grown by doubling (never past the announced
 * Content-Length), each chunk copied in and dropped, so memory is about the body's size however
 * it is segmented (a list of chunk Buffers costs hundreds of bytes per one-byte segment).
 */
class BodyRead {
  readonly #payload: IncomingMessage;
  readonly #announced: number;
  readonly #options: BodyIntakeOptions;
  readonly #done: Done;
  readonly #watch: BodyWatch;
  #buffer: Buffer | undefined;
  #length = 0;
  readonly startedAt = performance.now();
  /** Bytes received when the current rate window started, and when it started. */
  windowBytes = 0;
  windowStart = this.startedAt;
  #finished = false;

  constructor(
    payload: IncomingMessage,
    announced: number,
    options: BodyIntakeOptions,
    done: Done,
    watch: BodyWatch,
  ) {
    this.#payload = payload;
    this.#announced = announced;
    this.#options = options;
    this.#done = done;
    this.#watch = watch;
  }

  get length(): number {
    return this.#length;
  }

  start(): void {
    const payload = this.#payload;
    payload.on('data', this.#onData);
    payload.on('end', this.#onEnd);
    payload.on('error', this.#onError);
    payload.on('close', this.#onClose);
    this.#watch.add(this);
    payload.resume();
  }

  #onData = (chunk: Buffer): void => {
    const need = this.#length + chunk.length;
    if (need > this.#options.limit) {
      this.finish(payloadTooLarge(this.#options.limit));
      return;
    }
    let buffer = this.#buffer;
    if (buffer === undefined || need > buffer.length) {
      // A small announced body gets its exact buffer at once (most requests: one allocation, as
      // many bytes as the body). Others grow by doubling, which keeps the copies linear, up to the
      // announced length: memory follows what arrived, not what a client announced.
      let size: number;
      if (this.#announced >= need && this.#announced <= EXACT_BUFFER_MAX_BYTES) size = this.#announced;
      else {
        size = Math.max(need, FIRST_BUFFER_BYTES, 2 * (buffer?.length ?? 0));
        if (this.#announced >= need) size = Math.min(size, this.#announced);
        size = Math.min(size, Math.max(need, this.#options.limit));
      }
      const grown = Buffer.allocUnsafe(size);
      if (buffer !== undefined) buffer.copy(grown, 0, 0, this.#length);
      buffer = grown;
      this.#buffer = grown;
    }
    chunk.copy(buffer, this.#length);
    this.#length = need;
  };

  #onEnd = (): void => {
    if (this.#announced >= 0 && this.#length !== this.#announced) {
      this.finish(
        new ServerError('PD_ERR_BAD_REQUEST', 'the request body does not match its Content-Length', {
          statusCode: 400,
        }),
      );
      return;
    }
    this.finish(null);
  };

  #onError = (error: Error): void => {
    this.finish(
      new ServerError('PD_ERR_BAD_REQUEST', `the request body could not be read (${error.message})`),
    );
  };

  #onClose = (): void => {
    // The client left before the end: nobody to answer; just stop watching.
    if (!this.#finished)
      this.finish(new ServerError('PD_ERR_BAD_REQUEST', 'the client closed the connection'));
  };

  /** Ends the read, once: `error` null hands the body on. */
  finish(error: ServerError | null): void {
    if (this.#finished) return;
    this.#finished = true;
    const payload = this.#payload;
    payload.off('data', this.#onData);
    payload.off('end', this.#onEnd);
    payload.off('error', this.#onError);
    payload.off('close', this.#onClose);
    this.#watch.delete(this);
    if (error !== null) {
      this.#buffer = undefined;
      this.#done(error);
      return;
    }
    const buffer = this.#buffer;
    this.#buffer = undefined;
    this.#done(null, buffer === undefined ? Buffer.alloc(0) : buffer.subarray(0, this.#length));
  }
}

/**
 * The bodies being read, checked against their deadlines by one timer (running only while some
 * body is pending), rather than a timer per request.
 */
class BodyWatch {
  readonly #reads = new Set<BodyRead>();
  readonly #options: BodyIntakeOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: BodyIntakeOptions) {
    this.#options = options;
  }

  add(read: BodyRead): void {
    this.#reads.add(read);
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#check, CHECK_INTERVAL_MS);
      // Never keeps a process alive by itself.
      this.#timer.unref();
    }
  }

  delete(read: BodyRead): void {
    this.#reads.delete(read);
  }

  #check = (): void => {
    // Stopped here rather than when the last read ends: under load, reads come and go all the
    // time, and a timer per request would cost more than this tick.
    if (this.#reads.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    const { timeoutMs, minRate, rateWindowMs } = this.#options;
    for (const read of this.#reads) {
      if (now - read.startedAt > timeoutMs) {
        read.finish(requestTimeout(`the request body did not arrive within ${timeoutMs} ms`));
      } else if (minRate > 0 && now - read.windowStart >= rateWindowMs) {
        const rate = ((read.length - read.windowBytes) * 1000) / (now - read.windowStart);
        if (rate < minRate) {
          read.finish(
            requestTimeout(
              `the request body arrived at ${Math.floor(rate)} bytes/s, below the minimum of ${minRate} bytes/s`,
            ),
          );
        } else {
          read.windowStart = now;
          read.windowBytes = read.length;
        }
      }
    }
  };
}

function requestTimeout(message: string): ServerError {
  return new ServerError('PD_ERR_BODY_TIMEOUT', message);
}

/**
 * A Fastify content-type parser that reads the raw body into one Buffer (see BodyRead), answers
 * 413 from Content-Length before reading and as soon as the limit is crossed, and 408 (the
 * connection is then closed) when the body misses its deadline or its minimum rate.
 *
 * @example
 * app.addContentTypeParser('application/json', bodyParser({ limit, timeoutMs, minRate, rateWindowMs }));
 */
export function bodyParser(
  options: BodyIntakeOptions,
): (request: FastifyRequest, payload: IncomingMessage, done: Done) => void {
  const watch = new BodyWatch(options);
  return (request, payload, done) => {
    const header = request.headers['content-length'];
    // Node's HTTP parser has already refused a malformed Content-Length.
    const announced = header === undefined ? -1 : Number(header);
    if (announced > options.limit) {
      done(payloadTooLarge(options.limit));
      return;
    }
    new BodyRead(payload, announced, options, done, watch).start();
  };
}
