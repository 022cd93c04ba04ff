import type { WorkerAddress } from '@pd-router/core';
import { ServerError } from '../errors.js';
import { NIXL_TOY_PROXY_HEADER_ORDER } from '../upstream/headers.js';
import { MooncakeRequest, prepareMooncakeRequest } from './mooncake-body.js';
import { bootstrapAddr, DEFAULT_MOONCAKE_BOOTSTRAP_PORT, resolveEngineIds } from './mooncake-bootstrap.js';
import type { KvConnector } from './types.js';
import { uuid4 } from './uuid4.js';

/** The prefill-only header of the Mooncake proxy: the DP rank the prefill runs the request on. */
export const DP_RANK_HEADER = 'X-data-parallel-rank';

/** What the router knows about one Mooncake prefill: its bootstrap server and, once learnt, its ranks. */
interface PrefillEngines {
  readonly bootstrapAddr: string;
  /** Engine id per DP rank; undefined until its bootstrap server has answered. */
  engineIds: readonly string[] | undefined;
  /** The rank the next request goes to (the proxy cycles each prefill's ranks). */
  nextRank: number;
  /** Ends its bootstrap retries when the prefill leaves or the router closes. */
  readonly stop: AbortController;
}

export interface MooncakeTrackOptions {
  /** The router's log: retries at warn, the engine ids at info. */
  readonly log: {
    warn(obj: object, msg: string): void;
    info(obj: object, msg: string): void;
  };
  /** Called once the prefill's engine ids are known: it may be routed to from then on. */
  readonly onReady: (id: string) => void;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

/**
 * Every Mooncake prefill's bootstrap state, by worker id. A prefill that joins (`track`) is not
 * routable until its engine ids are known: `GET {prefill}/health`, then `GET {bootstrap}/query`,
 * retried with backoff (connectors/mooncake-bootstrap.ts) until they answer or the prefill leaves.
 */
export class MooncakeEngines {
  readonly #prefills = new Map<string, PrefillEngines>();
  /** Bootstrap ports given with a prefill URL (CLI, config file, admin API); 8998 otherwise. */
  readonly #ports = new Map<string, number>();
  readonly #o: MooncakeTrackOptions;

  constructor(options: MooncakeTrackOptions) {
    this.#o = options;
  }

  /** Records the bootstrap port given for a prefill URL, before the prefill is added. */
  setPort(url: string, port: number): void {
    this.#ports.set(url, port);
  }

  /** Starts learning a prefill's engine ids from its bootstrap server (8998 when no port was given). */
  track(id: string, url: string, address: WorkerAddress): void {
    this.forget(id);
    const addr = bootstrapAddr(address, this.#ports.get(url) ?? DEFAULT_MOONCAKE_BOOTSTRAP_PORT);
    const entry: PrefillEngines = {
      bootstrapAddr: addr,
      engineIds: undefined,
      nextRank: 0,
      stop: new AbortController(),
    };
    this.#prefills.set(id, entry);
    const log = this.#o.log;
    void resolveEngineIds({
      prefillUrl: url,
      bootstrapAddr: addr,
      signal: entry.stop.signal,
      ...(this.#o.retryInitialMs === undefined ? {} : { retryInitialMs: this.#o.retryInitialMs }),
      ...(this.#o.retryMaxMs === undefined ? {} : { retryMaxMs: this.#o.retryMaxMs }),
      onRetry: (reason, attempt, waitMs) =>
        log.warn(
          { prefill: url, bootstrap: addr, attempt, retryInMs: waitMs, reason },
          'Mooncake prefill not routable yet: its engine ids are unknown',
        ),
    }).then((ids) => {
      if (ids === 'aborted' || this.#prefills.get(id) !== entry) return;
      entry.engineIds = ids;
      log.info({ prefill: url, bootstrap: addr, engineIds: ids }, 'Mooncake prefill ready');
      this.#o.onReady(id);
    });
  }

  /** The prefill left: stop asking its bootstrap server. */
  forget(id: string): void {
    this.#prefills.get(id)?.stop.abort();
    this.#prefills.delete(id);
  }

  /** Whether a prefill's engine ids are known. */
  ready(id: string): boolean {
    return this.#prefills.get(id)?.engineIds !== undefined;
  }

  /** The bootstrap address, DP rank and engine id for the next request on a prefill, or undefined. */
  next(
    id: string,
  ): { readonly bootstrapAddr: string; readonly rank: number; readonly engineId: string } | undefined {
    const entry = this.#prefills.get(id);
    const ids = entry?.engineIds;
    if (entry === undefined || ids === undefined) return undefined;
    const rank = entry.nextRank % ids.length;
    entry.nextRank = (rank + 1) % ids.length;
    return { bootstrapAddr: entry.bootstrapAddr, rank, engineId: ids[rank] ?? '' };
  }

  close(): void {
    for (const id of [...this.#prefills.keys()]) this.forget(id);
  }
}

/**
 * vLLM's MooncakeConnector, as its proxy (`examples/disaggregated/mooncake_connector/
 * mooncake_connector_proxy.py`) drives it, byte for byte (docs/kv-connectors.md): one uuid4 request
 * id, `transfer_id` `xfer-<id>` in both bodies, the prefill body with the `do_remote_decode` params
 * and `X-data-parallel-rank`, the decode body naming the prefill's bootstrap server and the engine id
 * of that rank, and both legs sent together: the decode pulls its KV from the prefill by itself.
 *
 * Unlike the proxy, which never looks at the prefill: a prefill that fails before the decode's first
 * byte aborts the decode (the client gets the prefill's coded error, not a decode waiting for KV that
 * never comes); a decode that fails, or answers 5xx, aborts the prefill; the client leaving aborts
 * both (the exchange does). The prefill's answer is drained, never read.
 *
 * @example
 * const connector = createMooncakeConnector(engines);
 */
export function createMooncakeConnector(engines: MooncakeEngines): KvConnector {
  return {
    name: 'mooncake',
    headerOrder: NIXL_TOY_PROXY_HEADER_ORDER,

    prepare(raw) {
      return prepareMooncakeRequest(raw);
    },

    requestId(_prefill, _decode, random16) {
      return uuid4(random16);
    },

    async run(request, legs) {
      if (!(request instanceof MooncakeRequest)) {
        return new ServerError('PD_ERR_INTERNAL', 'the Mooncake connector got a request it did not prepare');
      }
      const engine = engines.next(legs.prefill.id);
      if (engine === undefined) {
        return new ServerError(
          'PD_ERR_NO_PREFILL_WORKER',
          "the prefill worker's Mooncake engine ids are not known yet",
        );
      }
      const id = legs.requestId;
      const prefillBody = request.prefillBody(id);
      const decodeBody = request.decodeBody(id, engine.bootstrapAddr, engine.engineId);
      legs.debug?.({ prefill: legs.prefill.url, rank: engine.rank, body: prefillBody }, 'prefill request');
      legs.debug?.({ decode: legs.decode.url, body: decodeBody }, 'decode request');
      const prefill = legs.collect(prefillBody, 0, [DP_RANK_HEADER, String(engine.rank)]);
      const decode = legs.relay(decodeBody);
      const prefillDone = prefill.result.then((p) => {
        if (p.end === 'failed' && !decode.started) decode.abort(PREFILL_FAILED);
        else if (p.end === 'failed') {
          legs.warn(
            { prefill: legs.prefill.url, code: p.failure?.error.code },
            'the prefill leg failed after the decode had started answering',
          );
        }
      });
      const d = await decode.result;
      if (d.end !== 'ok' || d.status >= 500) prefill.abort(DECODE_ENDED);
      await prefillDone;
      return undefined;
    },
  };
}

const PREFILL_FAILED = new Error('the prefill leg failed: no KV will come');
const DECODE_ENDED = new Error('the decode leg ended: the KV is not needed');
