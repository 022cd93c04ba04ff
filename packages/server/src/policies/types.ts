/** What a policy may know about a worker. Policies never do I/O and never mutate workers. */
export interface WorkerView {
  /** Stable id, e.g. "prefill:http://127.0.0.1:20003". */
  readonly id: string;
  readonly role: 'prefill' | 'decode';
  readonly url: string;
  /** Requests sent to this worker that have not finished (decode: until its stream ends or aborts). */
  readonly inFlight: number;
}

/** What a policy may know about a request. Computed once per request, lazily where costly. */
export interface RoutingRequest {
  /** Routing key for consistent_hash: x-session-id, x-user-id, x-tenant-id, x-correlation-id, body `user`, else prompt hash. */
  readonly hashKey: () => string;
  /** Prompt text (completions `prompt`, or the concatenated chat `messages` contents) for cache_aware. */
  readonly promptText: () => string;
  /**
   * The client's session id as vllm-router reads it (sticky_least_loaded, rendezvous_hash): the
   * session headers (consistent_hash's, then `x-request-id`, `x-trace-id`), else the body's
   * `session_params.session_id`, `user`, `session_id` or `user_id`; undefined when there is none.
   */
  readonly sessionId?: () => string | undefined;
}

/** Picks one worker from a non-empty list of healthy workers. */
export interface Policy {
  readonly name: string;
  pick(workers: readonly WorkerView[], request: RoutingRequest): WorkerView;
  /** Called when a request's leg on `worker` ends (any outcome), so stateful policies can account for it. */
  release?(worker: WorkerView, request: RoutingRequest): void;
}

export interface PairChoice {
  /** The prefill worker; not used (nor acquired) when `decodeOnly`. */
  readonly prefill: WorkerView;
  readonly decode: WorkerView;
  /** pd_aware decode-first: send the request to the decode alone, without a prefill leg. */
  readonly decodeOnly?: boolean;
  /**
   * Why each worker was chosen, for the policy-decision metric: the policy name, or for cache_aware
   * `cache_hit` | `cache_miss` | `load_balance`. A small fixed set (safe as a label).
   */
  readonly reasons?: { readonly prefill: string; readonly decode: string };
}

/**
 * Chooses P and D together: round_robin on both pools shares one counter (the reference proxy's
 * `count`), so pairs are picked as a unit. Returns undefined pools' names when a pool is empty.
 */
export interface PairSelector {
  /** Ends a client session in the policies that keep sessions (`POST /finish_session`); true when one knew it. */
  finishSession?(sessionId: string): boolean;
  /**
   * `retry`: the same client request again (after a failed attempt): round_robin's counter does
   * not move, so request k still counts as one request.
   */
  /** Called when a request's leg on `worker` ends, so stateful policies can account for it. */
  release?(worker: WorkerView, request: RoutingRequest): void;
  select(
    prefills: readonly WorkerView[],
    decodes: readonly WorkerView[],
    request: RoutingRequest,
    retry?: boolean,
  ): PairChoice | { readonly empty: 'prefill' | 'decode' };
}
