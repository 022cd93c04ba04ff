import { decode, encode } from '@msgpack/msgpack';
import * as zmq from 'zeromq';
import { MockVllmError } from './errors.js';

/** A read's fields besides `type` and `seq` (msgpack-encodable). */
export type SideChannelRead = Readonly<Record<string, unknown>>;

/** Answers one read with a result word; may wait (a Mooncake prefill holds a pull until its KV is ready). */
export type SideChannelServe = (read: SideChannelRead) => string | Promise<string>;

/** What a read ends with on the reading side: the serving side's result word, `timeout` or `aborted`. */
export type SideChannelOutcome = string;

interface Pending {
  readonly peer: string;
  readonly finish: (outcome: SideChannelOutcome) => void;
}

interface Peer {
  readonly dealer: zmq.Dealer;
  /** Whether anything ever came back: a peer that never answered is dropped on a timeout. */
  answered: boolean;
}

/** Dealer sockets kept open at most (one per prefill side channel read from). */
const MAX_PEERS = 64;

/**
 * The stand-in for a KV connector's side channel, over real ZeroMQ: NIXL's block reads and Mooncake's
 * KV pulls. Each instance binds a ROUTER on its KV port (as vLLM's handshake listener binds
 * VLLM_NIXL_SIDE_CHANNEL_PORT, or Mooncake's sender binds its worker address). A decode connects a
 * DEALER to the prefill's address and sends `["", msgpack {type: "read", seq, ...fields}]`; the
 * prefill answers `["", msgpack {type: "read_reply", seq, result}]` with `ok` or why not. One DEALER
 * per peer, kept; replies are matched by `seq`, so reads from many requests share it, and a read that
 * waits on the serving side does not hold up the others.
 */
export class ZmqSideChannel {
  readonly #router: zmq.Router;
  readonly #serve: SideChannelServe;
  readonly #peers = new Map<string, Peer>();
  readonly #pending = new Map<number, Pending>();
  readonly #loop: Promise<void>;
  readonly port: number;
  #seq = 0;
  #closed = false;

  private constructor(router: zmq.Router, port: number, serve: SideChannelServe) {
    this.#router = router;
    this.port = port;
    this.#serve = serve;
    this.#loop = this.#answerReads();
  }

  /**
   * Binds the ROUTER on `host:port` (0 picks a free port); `serve` answers each read.
   *
   * @example
   * const channel = await ZmqSideChannel.bind('127.0.0.1', 0, (read) => store.take(read));
   */
  static async bind(host: string, port: number, serve: SideChannelServe): Promise<ZmqSideChannel> {
    // sendTimeout 0: a reply to a decode that stopped reading is dropped, never blocks the loop.
    const router = new zmq.Router({ linger: 0, sendTimeout: 0 });
    try {
      await router.bind(`tcp://${host}:${port === 0 ? '*' : port}`);
    } catch (cause) {
      router.close();
      throw new MockVllmError(
        'PD_ERR_MOCK_LISTEN_FAILED',
        `cannot bind the KV side channel on ${host}:${port}`,
        { cause },
      );
    }
    const endpoint = router.lastEndpoint ?? '';
    return new ZmqSideChannel(router, Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)), serve);
  }

  async #answerReads(): Promise<void> {
    try {
      for await (const frames of this.#router) {
        const identity = frames[0];
        const read = parseMessage(frames.at(-1), 'read');
        if (identity === undefined || read === undefined) continue;
        void this.#answer(identity, read);
      }
    } catch (error) {
      // Closing the socket ends the loop with an error on some versions; anything else is a bug.
      if (!this.#closed) throw error;
    }
  }

  async #answer(identity: Buffer, read: Record<string, unknown>): Promise<void> {
    let result: string;
    try {
      result = await this.#serve(read);
    } catch {
      result = 'error';
    }
    if (this.#closed) return;
    await this.#router
      .send([identity, '', encode({ type: 'read_reply', seq: read['seq'], result })])
      .catch(() => undefined);
  }

  /**
   * Sends `read` to the side channel at `host:port` (a loopback address: the caller checks).
   * Resolves with the serving side's result word, `timeout` after `timeoutMs`, or `aborted`.
   */
  read(
    host: string,
    port: number,
    read: SideChannelRead,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<SideChannelOutcome> {
    if (this.#closed || signal.aborted) return Promise.resolve('aborted');
    const address = `${host}:${port}`;
    const peer = this.#peer(address);
    this.#seq = this.#seq >= Number.MAX_SAFE_INTEGER ? 1 : this.#seq + 1;
    const seq = this.#seq;
    return new Promise<SideChannelOutcome>((resolve) => {
      const finish = (outcome: SideChannelOutcome): void => {
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
      // A full queue (a peer that never connects) is a read that will not be answered: time out.
      peer.dealer.send(['', encode({ ...read, type: 'read', seq })]).catch(() => undefined);
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
        pending.finish(typeof result === 'string' ? result : 'error');
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
