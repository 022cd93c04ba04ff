import { decode, encode } from '@msgpack/msgpack';
import * as zmq from 'zeromq';
import { MockVllmError } from './errors.js';
import { NIXL_READ_RESULTS, type NixlReadRequest, type NixlReadResult } from './nixl-types.js';

/** What a read can end with on the decode side, besides the prefill's own answer. */
export type NixlReadOutcome = NixlReadResult | 'timeout' | 'aborted';

interface Pending {
  readonly peer: string;
  readonly finish: (outcome: NixlReadOutcome) => void;
}

interface Peer {
  readonly dealer: zmq.Dealer;
  /** Whether anything ever came back: a peer that never answered is dropped on a timeout. */
  answered: boolean;
}

/** Dealer sockets kept open at most (one per prefill side channel read from). */
const MAX_PEERS = 64;

/**
 * The stand-in for NIXL's side channel and block reads, over real ZeroMQ. Each NIXL instance binds a
 * ROUTER on its KV port (as vLLM's handshake listener binds VLLM_NIXL_SIDE_CHANNEL_PORT). A decode
 * connects a DEALER to the prefill's `remote_host:remote_port` and sends `["", msgpack {type: "read",
 * seq, engine_id, request_id, block_ids}]`; the prefill answers `["", msgpack {type: "read_reply", seq,
 * result}]` with `ok` (the blocks are freed) or why not. One DEALER per peer, kept; replies are matched
 * by `seq`, so reads from many requests share it.
 */
export class NixlSideChannel {
  readonly #router: zmq.Router;
  readonly #serve: (read: NixlReadRequest) => NixlReadResult;
  readonly #peers = new Map<string, Peer>();
  readonly #pending = new Map<number, Pending>();
  readonly #loop: Promise<void>;
  readonly port: number;
  #seq = 0;
  #closed = false;

  private constructor(router: zmq.Router, port: number, serve: (read: NixlReadRequest) => NixlReadResult) {
    this.#router = router;
    this.port = port;
    this.#serve = serve;
    this.#loop = this.#answerReads();
  }

  /**
   * Binds the ROUTER on `host:port` (0 picks a free port); `serve` answers each read.
   *
   * @example
   * const channel = await NixlSideChannel.bind('127.0.0.1', 0, (read) => store.take(read));
   */
  static async bind(
    host: string,
    port: number,
    serve: (read: NixlReadRequest) => NixlReadResult,
  ): Promise<NixlSideChannel> {
    // sendTimeout 0: a reply to a decode that stopped reading is dropped, never blocks the loop.
    const router = new zmq.Router({ linger: 0, sendTimeout: 0 });
    try {
      await router.bind(`tcp://${host}:${port === 0 ? '*' : port}`);
    } catch (cause) {
      router.close();
      throw new MockVllmError(
        'PD_ERR_MOCK_LISTEN_FAILED',
        `cannot bind the NIXL side channel on ${host}:${port}`,
        { cause },
      );
    }
    const endpoint = router.lastEndpoint ?? '';
    return new NixlSideChannel(router, Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)), serve);
  }

  async #answerReads(): Promise<void> {
    try {
      for await (const frames of this.#router) {
        const identity = frames[0];
        const read = parseMessage(frames.at(-1), 'read');
        if (identity === undefined || read === undefined) continue;
        const engineId = read['engine_id'];
        const requestId = read['request_id'];
        const blockIds = read['block_ids'];
        const valid =
          typeof engineId === 'string' &&
          typeof requestId === 'string' &&
          Array.isArray(blockIds) &&
          blockIds.every((b) => typeof b === 'number');
        const result: NixlReadResult = valid
          ? this.#serve({ engineId, requestId, blockIds: blockIds as number[] })
          : 'not-found';
        await this.#router
          .send([identity, '', encode({ type: 'read_reply', seq: read['seq'], result })])
          .catch(() => undefined);
      }
    } catch (error) {
      // Closing the socket ends the loop with an error on some versions; anything else is a bug.
      if (!this.#closed) throw error;
    }
  }

  /**
   * Reads the blocks of `read` from the side channel at `host:port` (a loopback address: the caller
   * checks). Resolves with the prefill's answer, `timeout` after `timeoutMs`, or `aborted`.
   */
  read(
    host: string,
    port: number,
    read: NixlReadRequest,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<NixlReadOutcome> {
    if (this.#closed || signal.aborted) return Promise.resolve('aborted');
    const address = `${host}:${port}`;
    const peer = this.#peer(address);
    this.#seq = this.#seq >= Number.MAX_SAFE_INTEGER ? 1 : this.#seq + 1;
    const seq = this.#seq;
    return new Promise<NixlReadOutcome>((resolve) => {
      const finish = (outcome: NixlReadOutcome): void => {
        if (!this.#pending.delete(seq)) return;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (outcome === 'timeout' && !peer.answered && this.#peers.get(address) === peer) {
          this.#dropPeer(address);
        }
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(seq, { peer: address, finish });
      const message = { type: 'read', seq, engine_id: read.engineId, request_id: read.requestId };
      // A full queue (a peer that never connects) is a read that will not be answered: time out.
      peer.dealer.send(['', encode({ ...message, block_ids: read.blockIds })]).catch(() => undefined);
    });
  }

  #peer(address: string): Peer {
    const known = this.#peers.get(address);
    if (known !== undefined) return known;
    if (this.#peers.size >= MAX_PEERS) {
      const oldest = this.#peers.keys().next().value;
      if (oldest !== undefined) this.#dropPeer(oldest);
    }
    // linger 0: dropping a peer discards reads still queued for it, so a late connection cannot
    // free blocks for a decode that has already given up and recomputed.
    const dealer = new zmq.Dealer({ linger: 0, sendTimeout: 0 });
    dealer.connect(`tcp://${address}`);
    const peer: Peer = { dealer, answered: false };
    this.#peers.set(address, peer);
    void this.#receiveReplies(peer);
    return peer;
  }

  async #receiveReplies(peer: Peer): Promise<void> {
    try {
      for await (const frames of peer.dealer) {
        const reply = parseMessage(frames.at(-1), 'read_reply');
        if (reply === undefined) continue;
        peer.answered = true;
        const result = reply['result'];
        const pending = typeof reply['seq'] === 'number' ? this.#pending.get(reply['seq']) : undefined;
        if (pending === undefined) continue;
        const known = NIXL_READ_RESULTS.find((r) => r === result);
        pending.finish(known ?? 'not-found');
      }
    } catch {
      // The dealer was closed (peer dropped or channel closed): its reads are finished by their timers.
    }
  }

  #dropPeer(address: string): void {
    const peer = this.#peers.get(address);
    if (peer === undefined) return;
    this.#peers.delete(address);
    peer.dealer.close();
    for (const pending of [...this.#pending.values()]) {
      if (pending.peer === address) pending.finish('timeout');
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const pending of [...this.#pending.values()]) pending.finish('aborted');
    for (const address of [...this.#peers.keys()]) this.#dropPeer(address);
    this.#router.close();
    await this.#loop.catch(() => undefined);
  }
}

function parseMessage(frame: Buffer | undefined, type: string): Record<string, unknown> | undefined {
  if (frame === undefined) return undefined;
  try {
    const value = decode(frame);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const message = value as Record<string, unknown>;
    return message['type'] === type ? message : undefined;
  } catch {
    return undefined;
  }
}
