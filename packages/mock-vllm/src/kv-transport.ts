import * as zmq from 'zeromq';
import { MockVllmError } from './errors.js';

/** The first frame of a KV notice: this prefix, then the engine request id. */
export const KV_READY_PREFIX = 'KV ready ';

/** Something received on the KV socket: the engine request id and who sent it. */
export interface KvNotice {
  readonly requestId: string;
  readonly from: string;
}

/**
 * The stand-in for P2P NCCL's tensor channel: each instance binds a ZMQ PULL socket on its KV
 * address; a prefill PUSHes `["KV ready {engine request id}", "{its own kv address}"]` to the decode
 * address named in the request id. One PUSH socket per peer, created on first use and kept.
 */
export class KvTransport {
  readonly #pull: zmq.Pull;
  readonly #pushes = new Map<string, zmq.Push>();
  readonly #loop: Promise<void>;
  readonly host: string;
  readonly port: number;
  #closed = false;

  private constructor(pull: zmq.Pull, host: string, port: number, onNotice: (notice: KvNotice) => void) {
    this.#pull = pull;
    this.host = host;
    this.port = port;
    this.#loop = this.#receive(onNotice);
  }

  /** "host:port", the address a router puts in the request id. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /**
   * Binds the PULL socket; `port` 0 picks a free one.
   *
   * @example
   * const kv = await KvTransport.bind('127.0.0.1', 0, (n) => inbox.deliver(n.requestId));
   */
  static async bind(host: string, port: number, onNotice: (notice: KvNotice) => void): Promise<KvTransport> {
    const pull = new zmq.Pull({ linger: 0 });
    try {
      await pull.bind(`tcp://${host}:${port === 0 ? '*' : port}`);
    } catch (cause) {
      pull.close();
      throw new MockVllmError('PD_ERR_MOCK_LISTEN_FAILED', `cannot bind the KV socket on ${host}:${port}`, {
        cause,
      });
    }
    const endpoint = pull.lastEndpoint ?? '';
    const bound = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    return new KvTransport(pull, host, bound, onNotice);
  }

  async #receive(onNotice: (notice: KvNotice) => void): Promise<void> {
    try {
      for await (const frames of this.#pull) {
        const head = frames[0]?.toString('utf8') ?? '';
        if (!head.startsWith(KV_READY_PREFIX)) continue;
        onNotice({ requestId: head.slice(KV_READY_PREFIX.length), from: frames[1]?.toString('utf8') ?? '' });
      }
    } catch (error) {
      // Closing the socket ends the loop with an error on some versions; anything else is a bug.
      if (!this.#closed) throw error;
    }
  }

  /**
   * Sends the notice for `engineId` to `peer` ("host:port"). Resolves false when it cannot even be
   * queued (the peer's queue is full): that is a lost transfer, as when a real KV push fails.
   */
  async send(peer: string, engineId: string): Promise<boolean> {
    if (this.#closed) return false;
    let push = this.#pushes.get(peer);
    if (push === undefined) {
      // sendTimeout 0: never block the request path on an absent peer; linger 0: close() is instant.
      push = new zmq.Push({ linger: 0, sendTimeout: 0 });
      push.connect(`tcp://${peer}`);
      this.#pushes.set(peer, push);
    }
    try {
      await push.send([`${KV_READY_PREFIX}${engineId}`, this.address]);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const push of this.#pushes.values()) push.close();
    this.#pushes.clear();
    this.#pull.close();
    await this.#loop.catch(() => undefined);
  }
}
