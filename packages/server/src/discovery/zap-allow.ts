import * as zmq from 'zeromq';
import { type Cidr, inCidrs } from './cidr.js';

/** libzmq sends every ZAP request of a context to this inproc endpoint (RFC 27). */
export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
/** The ZAP domain set on the registration socket; with NULL security a non-empty one turns ZAP on. */
export const ZAP_DOMAIN = 'pd-router-registration';
const RECEIVE_ERROR_PAUSE_MS = 100;

/** A ZAP request as the handler's ROUTER receives it: routing id, empty delimiter, then RFC 27's frames. */
export interface ZapRequest {
  readonly routingId: Uint8Array;
  readonly requestId: Uint8Array;
  /** The peer's IP address, as libzmq writes it (dotted quad for IPv4; no port). */
  readonly address: string;
}

/**
 * Reads a ZAP request, or returns undefined when the frames are not one (only libzmq writes to
 * the inproc endpoint, so this means a libzmq we do not understand: the caller refuses).
 */
export function readZapRequest(frames: readonly Uint8Array[]): ZapRequest | undefined {
  // [routing id, "", version, request id, domain, address, identity, mechanism, ...credentials]
  const [routingId, delimiter, version, requestId, , address] = frames;
  if (frames.length < 8 || routingId === undefined || requestId === undefined || address === undefined)
    return undefined;
  if (delimiter?.byteLength !== 0 || Buffer.from(version ?? []).toString('latin1') !== '1.0')
    return undefined;
  return { routingId, requestId, address: Buffer.from(address).toString('latin1') };
}

/**
 * True when the peer address lies in the allow-list. IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what an
 * IPv6-enabled socket reports for an IPv4 peer) counts as its IPv4 address; other IPv6 never matches.
 */
export function senderAllowed(address: string, allow: readonly Cidr[]): boolean {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return inCidrs(mapped?.[1] ?? address, allow);
}

/** The reply frames to a request: `200` admits the connection, `400` refuses it. */
export function zapReply(request: ZapRequest, allowed: boolean): Uint8Array[] {
  const text = (s: string) => Buffer.from(s, 'latin1');
  return [
    request.routingId,
    text(''),
    text('1.0'),
    request.requestId,
    text(allowed ? '200' : '400'),
    text(allowed ? 'OK' : 'sender outside --discovery-allow'),
    text(''),
    text(''),
  ];
}

/**
 * The ZAP (ZeroMQ RFC 27) handler of one ZeroMQ context: libzmq asks it, during each incoming
 * connection's handshake on a socket with a ZAP domain, whether to admit the peer, and gives the
 * peer's source IP address. ZeroMQ exposes the sender's address nowhere else (not on messages),
 * so this is how `--discovery-allow` limits who may register, not only what they announce.
 * A refused connection is closed during the handshake, before any message of it is delivered.
 *
 * The endpoint is per context, and only one handler can bind it: the registration socket gets a
 * context of its own, so two routers in one process (or an embedding application's own ZAP
 * handler) never collide.
 *
 * @example
 * const context = new zmq.Context({ blocky: false });
 * const zap = await ZapAllowHandler.start(context, allow, (ip) => log.warn({ ip }, 'refused'));
 * const router = new zmq.Router({ context, zapDomain: ZAP_DOMAIN, zapEnforceDomain: true });
 */
export class ZapAllowHandler {
  readonly #socket: zmq.Router;
  readonly #loop: Promise<void>;
  #closed = false;

  private constructor(socket: zmq.Router, allow: readonly Cidr[], onRefused: (address: string) => void) {
    this.#socket = socket;
    this.#loop = this.#serve(allow, onRefused);
  }

  /** Binds the context's ZAP endpoint; rejects when another handler already holds it. */
  static async start(
    context: zmq.Context,
    allow: readonly Cidr[],
    onRefused: (address: string) => void,
  ): Promise<ZapAllowHandler> {
    const socket = new zmq.Router({ context, linger: 0 });
    try {
      await socket.bind(ZAP_ENDPOINT);
    } catch (error) {
      socket.close();
      throw error;
    }
    return new ZapAllowHandler(socket, allow, onRefused);
  }

  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    await this.#loop;
  }

  async #serve(allow: readonly Cidr[], onRefused: (address: string) => void): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[];
      try {
        frames = await this.#socket.receive();
      } catch {
        if (this.#closed) return;
        // Unexpected: pause so a persistent error cannot spin. A request left unanswered fails
        // its handshake (libzmq's handshake timeout), which refuses the peer: fail closed.
        await new Promise((resolve) => setTimeout(resolve, RECEIVE_ERROR_PAUSE_MS));
        continue;
      }
      const request = readZapRequest(frames);
      // Not a request we understand (only libzmq writes here): unanswered, so refused as above.
      if (request === undefined) continue;
      const allowed = senderAllowed(request.address, allow);
      if (!allowed) {
        try {
          onRefused(request.address);
        } catch {
          // Counting or logging failed: the refusal below still goes out.
        }
      }
      try {
        await this.#socket.send(zapReply(request, allowed));
      } catch {
        // Closed meanwhile: the handshake dies with the socket.
      }
    }
  }
}
