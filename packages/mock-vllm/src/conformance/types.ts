/** One request as a mock upstream received it: what node's `http` server hands over, body fully read. */
export interface RawRequest {
  readonly method: string;
  /** The request target as received (`req.url`); a query string here fails the request-line check. */
  readonly path: string;
  /** node's `req.rawHeaders`: name, value, name, value ... in wire order, duplicates kept. */
  readonly rawHeaders: readonly string[];
  readonly body: Uint8Array;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export type Role = 'prefill' | 'decode';

/** The outcome of comparing one received request with its golden request. */
export interface Verdict {
  /** The golden case compared against; undefined when the fixtures hold no request for this role. */
  readonly case: string | undefined;
  readonly role: Role;
  /** 1-based request number in multi-request cases (`prefill-N.http`); absent otherwise. */
  readonly index?: number;
  readonly ok: boolean;
  readonly checks: readonly Check[];
  /** Readable account of every failed check (body diff included), for humans; absent when ok. */
  readonly diff?: string;
}

/**
 * `p2p-nccl`: vLLM's xPyD reference proxy (ids name ZMQ addresses); `nixl`: the NIXL toy proxy (uuid4 ids);
 * `mooncake`: vLLM's Mooncake connector proxy (uuid4 ids, `transfer_id` and the prefill's bootstrap
 * address in the bodies, both legs at once).
 */
export type FixtureKind = 'p2p-nccl' | 'nixl' | 'mooncake';

/** In a Mooncake decode body, where the capture's `remote_bootstrap_addr` value stood. */
export const BOOTSTRAP_PLACEHOLDER = '{bootstrap}';

export type HeaderPair = readonly [name: string, value: string];

/** One golden upstream request, parsed once from a `*.normalized.http` capture. */
export interface GoldenExchange {
  readonly case: string;
  readonly kind: FixtureKind;
  readonly role: Role;
  readonly index: number | undefined;
  /** Absolute path of the `*.normalized.http` file. */
  readonly file: string;
  readonly method: string;
  /** Request target of the capture (never has a query string). */
  readonly target: string;
  readonly httpVersion: string;
  /** Headers in wire order and case; values trimmed of surrounding blanks as HTTP parsers do. */
  readonly headers: readonly HeaderPair[];
  /** Normalized body: the request id is `{uuid}` wherever it occurred (NIXL decode bodies, Mooncake
   * bodies), and a Mooncake decode's `remote_bootstrap_addr` value is `{bootstrap}`. */
  readonly body: Uint8Array;
  /** The capture's `X-Request-Id` value with its placeholder, e.g. `___prefill_addr_...___decode_addr_..._{uuid}`. */
  readonly requestIdTemplate: string;
  /** `OPENAI_API_KEY` the reference proxy ran with; null when unset. */
  readonly apiKey: string | null;
}

export interface GoldenHttpResponse {
  readonly status: number;
  readonly headers: readonly HeaderPair[];
  /** Normalized: the request id is `{uuid}`. */
  readonly body: Uint8Array;
}

export interface GoldenClientRequest {
  readonly method: string;
  /** As the client sent it (may carry a query string the router must drop). */
  readonly target: string;
  readonly headers: readonly HeaderPair[];
  readonly body: Uint8Array;
}

/** One client request of a case and the two upstream requests the reference made for it. */
export interface GoldenRound {
  /** 1-based in multi-request cases, undefined in single-request ones. */
  readonly index: number | undefined;
  /** Worker indices (0-based, in flag order) the reference picked: round robin pair k = (P[k mod nP], D[k mod nD]);
   * Mooncake: as the capture's `rounds` say, with the prefill's DP rank. */
  readonly pair: { readonly prefill: number; readonly decode: number; readonly rank?: number };
  readonly client: GoldenClientRequest;
  readonly prefill: GoldenExchange;
  readonly decode: GoldenExchange;
  /** NIXL only: what the captured prefill answered; its `kv_transfer_params` end up in the decode body. */
  readonly prefillResponse?: GoldenHttpResponse;
}

export interface GoldenTopology {
  readonly prefill: number;
  readonly decode: number;
  /** P2P NCCL only: the ZMQ addresses of the capture, in flag order. */
  readonly zmq?: { readonly prefill: readonly string[]; readonly decode: readonly string[] };
  /** Mooncake only: the prefills' bootstrap servers, in flag order. */
  readonly mooncake?: { readonly prefills: readonly GoldenBootstrap[] };
}

/** A Mooncake prefill of a capture and what its bootstrap server answered the proxy at start. */
export interface GoldenBootstrap {
  /** The port given after the prefill URL, or null when none was (the proxy used 8998). */
  readonly portArg: number | null;
  /** `http://host:port`, as the proxy put it into `remote_bootstrap_addr`. */
  readonly addr: string;
  /** Engine id per DP rank, from the captured `/query` answer. */
  readonly engineIds: readonly string[];
  /** The exact `/query` answer body. */
  readonly queryBody: Uint8Array;
}

export interface GoldenCase {
  readonly name: string;
  /** Name of the fixtures directory the case came from (`reference-proxy`, `nixl-toy-proxy`). */
  readonly fixtureSet: string;
  readonly dir: string;
  readonly kind: FixtureKind;
  readonly description: string;
  readonly apiKey: string | null;
  /** False when a backend answered with an error in the capture: such a case is not a conformance target. */
  readonly target: boolean;
  /** Largest prefill delay the capture's backends applied (ms); 0 when none. */
  readonly prefillDelayMs: number;
  readonly topology: GoldenTopology;
  readonly rounds: readonly GoldenRound[];
}

/** What the caller knows about the run, so the comparison can be exact instead of by shape. */
export interface CompareOptions {
  /** The `Host` the router must send: the worker it called (`127.0.0.1:PORT`). Without it, any host:port. */
  readonly workerHostHeader?: string;
  /** P2P NCCL: the ZMQ addresses the router was configured with for this pair (`host:port`). Without them the
   * addresses in the id are checked by shape only, because a run's ports differ from the capture's. */
  readonly expectedZmq?: { readonly prefill: string; readonly decode: string };
  /** Mooncake decode: the `remote_bootstrap_addr` the router must send (`http://127.0.0.1:PORT`), the
   * run's own in place of the capture's. Without it, any `http://host:port`. */
  readonly bootstrapAddr?: string;
}

export interface CheckContext extends CompareOptions {
  /** Compare only with this case (directory name). */
  readonly case?: string;
  /** Compare only with this request number of a multi-request case. */
  readonly index?: number;
  /** `OPENAI_API_KEY` the router runs with (null: unset): only cases captured with the same setting match. */
  readonly apiKey?: string | null;
}
