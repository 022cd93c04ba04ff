import type { CoreError, Result } from '@pd-router/core';
import type { KvConnector, PreparedRequest } from '../connectors/types.js';
import { ServerError } from '../errors.js';

/** Bodies up to this size are parsed in one go by the exchange (most requests: no extra work). */
export const SLICED_PARSE_MIN_BYTES = 256 * 1024;
/** Bytes scanned per slice: a few ms of event loop each, so streams and /health keep flowing. */
export const PARSE_SLICE_BYTES = 256 * 1024;
/** What a client refused for the parse budget is told to wait before retrying. */
export const PARSE_BUSY_RETRY_AFTER_S = 1;

type Prepared = Result<PreparedRequest, CoreError | ServerError>;

/** Bodies parsed here, keyed by the Buffer handed to the route: the exchange takes them once. */
const prepared = new WeakMap<Uint8Array, Prepared>();

/**
 * The result of a large body's parse done at intake, if any (removed: taken once). Bodies without
 * one are parsed by the caller, synchronously.
 *
 * @example
 * const result = takePrepared(raw) ?? connector.prepare(raw);
 */
export function takePrepared(raw: Uint8Array): Prepared | undefined {
  const result = prepared.get(raw);
  if (result !== undefined) prepared.delete(raw);
  return result;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Canonicalizes large bodies in slices, with the event loop free between them, within a budget of
 * bytes being parsed at once: a body that would exceed it (while another parse runs) is refused
 * with 503 `PD_ERR_PARSE_BUSY` and Retry-After. One body larger than the budget still gets parsed
 * when it is alone, so no size under `--max-payload-size` is refused forever.
 *
 * @example
 * const parses = new SlicedParses(64 * 1024 * 1024);
 * const refusal = await parses.parse(body, connector); // then takePrepared(body) has the result
 */
export class SlicedParses {
  readonly #budget: number;
  #inFlight = 0;

  constructor(budgetBytes: number) {
    this.#budget = budgetBytes;
  }

  /** Bytes of the bodies being parsed now. */
  get inFlightBytes(): number {
    return this.#inFlight;
  }

  /** Whether `parse` has work for this body (large, and a connector that parses in slices). */
  wants(body: Buffer, connector: KvConnector): boolean {
    return body.length >= SLICED_PARSE_MIN_BYTES && connector.prepareJob !== undefined;
  }

  /**
   * Parses `body` here when it is large and the connector can work in slices (the result goes to
   * takePrepared); otherwise does nothing. Resolves to the refusal when over budget.
   */
  async parse(body: Buffer, connector: KvConnector): Promise<ServerError | undefined> {
    if (body.length < SLICED_PARSE_MIN_BYTES || connector.prepareJob === undefined) return undefined;
    if (this.#inFlight > 0 && this.#inFlight + body.length > this.#budget) {
      return new ServerError(
        'PD_ERR_PARSE_BUSY',
        `the router is parsing ${this.#inFlight} bytes of other bodies (budget ${this.#budget}); retry in ${PARSE_BUSY_RETRY_AFTER_S} s`,
        { retryAfter: String(PARSE_BUSY_RETRY_AFTER_S) },
      );
    }
    this.#inFlight += body.length;
    try {
      const job = connector.prepareJob(body);
      while (!job.step(PARSE_SLICE_BYTES)) await nextTurn();
      prepared.set(body, job.result());
    } finally {
      this.#inFlight -= body.length;
    }
    return undefined;
  }
}
