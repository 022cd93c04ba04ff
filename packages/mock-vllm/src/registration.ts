import { encode } from '@msgpack/msgpack';
import * as zmq from 'zeromq';

/** vLLM's P2pNcclEngine pings its proxy every 3 s. */
export const DEFAULT_REGISTER_INTERVAL_MS = 3_000;

/** The map a P2P NCCL instance sends, in the key order vLLM's engine writes it. */
export interface RegistrationMessage {
  readonly type: 'P' | 'D';
  readonly http_address: string;
  readonly zmq_address: string;
}

export interface RegistrationOptions {
  /** The proxy's ZMQ ROUTER, "host:port". */
  readonly proxyAddress: string;
  readonly message: RegistrationMessage;
  readonly intervalMs: number;
}

/**
 * Heartbeats like `P2pNcclEngine.ping`: a ZMQ DEALER whose routing id is the instance's ZMQ
 * address, connected to the proxy, sending one msgpack map now and then every `intervalMs`,
 * forever. There is no deregistration message: stopping simply stops the pings.
 *
 * @example
 * const reg = startRegistration({ proxyAddress: '127.0.0.1:30001', intervalMs: 3000,
 *   message: { type: 'P', http_address: '127.0.0.1:20001', zmq_address: '127.0.0.1:21001' } });
 * await reg.stop();
 */
export function startRegistration(options: RegistrationOptions): { stop(): Promise<void> } {
  const dealer = new zmq.Dealer({ routingId: options.message.zmq_address, linger: 0, sendTimeout: 0 });
  dealer.connect(`tcp://${options.proxyAddress}`);
  const payload = encode(options.message);
  const ping = (): void => {
    // A full queue (proxy down for a long time) drops the ping, as a heartbeat should.
    dealer.send(payload).catch(() => undefined);
  };
  ping();
  const timer = setInterval(ping, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      dealer.close();
    },
  };
}
