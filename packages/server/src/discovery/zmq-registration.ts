import type { FastifyBaseLogger } from 'fastify';
import * as zmq from 'zeromq';
import type { DynamicWorkerMetrics, RejectReason } from '../workers/dynamic-metrics.js';
import type { WorkerRegistry } from '../workers/registry.js';
import type { Worker } from '../workers/worker.js';
import type { Cidr } from './cidr.js';
import { MAX_REGISTRATION_BYTES, parseRegistration } from './registration-message.js';
import { SenderRateLimit } from './sender-rate-limit.js';
import { ZAP_DOMAIN, ZapAllowHandler } from './zap-allow.js';

export interface ZmqRegistrationOptions {
  readonly registry: WorkerRegistry;
  /** Interface to bind (`*` or `0.0.0.0`: all). */
  readonly host: string;
  /** 0: any free port (see `address`). */
  readonly port: number;
  readonly ttlMs: number;
  /**
   * When non-empty, both the sender's source IP (checked during the connection handshake, through
   * ZAP) and the announced addresses must lie inside.
   */
  readonly allow: readonly Cidr[];
  /**
   * Most discovered workers (this source and Kubernetes together); a registration of a new worker
   * beyond it is refused (`max_workers`).
   */
  readonly maxWorkers: number;
  /** Messages a second one sender may send (bursts of as many); beyond it they are dropped (`rate_limited`). */
  readonly ratePerSender: number;
  readonly metrics: DynamicWorkerMetrics;
  readonly log: FastifyBaseLogger;
}

interface Entry {
  readonly worker: Worker;
  /** performance.now() of the last heartbeat. */
  seenAt: number;
}

/** The sweep runs this many times per TTL, so an entry leaves at most TTL/5 late. */
const SWEEPS_PER_TTL = 5;
const MIN_SWEEP_MS = 10;
/** Refusals are logged once per reason per this period (a misbehaving peer pings every 3 s). */
const REFUSAL_LOG_PERIOD_MS = 10_000;
/** Log-throttling key of sender refusals (metric reason `not_allowed`, like announced ones). */
const SENDER_REFUSAL = 'not_allowed_sender';
/** Pause after an unexpected receive error, so a persistent one cannot spin the CPU. */
const RECEIVE_ERROR_PAUSE_MS = 100;

/**
 * vLLM's P2P NCCL registration, done right. A ZMQ ROUTER receives the msgpack heartbeats that each
 * prefill/decode instance sends every 3 s; a new `(role, http_address)` joins the registry
 * (source `discovery`), a repeat refreshes it, and a sweep timer removes every entry silent for
 * longer than the TTL, wherever it sits (the reference only pruned the front of its dict, so a
 * dead instance behind a live one stayed forever). A malformed or unknown message is logged,
 * counted and dropped; the receive loop survives anything (one bad message ended the
 * reference's listener for good).
 *
 * The ROUTER runs with ZMQ_ROUTER_HANDOVER: a restarted instance reconnects with the same routing
 * id (its ZMQ address) while the old TCP connection may linger, and without handover its pings
 * would be dropped as a duplicate id.
 *
 * With `--discovery-allow`, the ROUTER lives in a ZeroMQ context of its own with a ZAP handler
 * (see ZapAllowHandler): a connection from a source IP outside the list is refused during its
 * handshake, counted (`not_allowed`) and logged; messages of admitted connections still have
 * their announced addresses checked.
 *
 * @example
 * const reg = await ZmqRegistration.start({ registry, host: '0.0.0.0', port: 30001, ttlMs: 5000, allow: [], metrics, log });
 * await reg.stop();
 */
export class ZmqRegistration {
  /** The bound `host:port` (the real port when 0 was asked for). */
  readonly address: string;
  readonly #options: ZmqRegistrationOptions;
  readonly #router: zmq.Router;
  readonly #zap: ZapAllowHandler | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #limit: SenderRateLimit;
  readonly #lastRefusalLog = new Map<string, number>();
  readonly #suppressed = new Map<string, number>();
  readonly #sweepTimer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  readonly #loop: Promise<void>;
  #closed = false;

  private constructor(
    options: ZmqRegistrationOptions,
    router: zmq.Router,
    zap: ZapAllowHandler | undefined,
    address: string,
  ) {
    this.#options = options;
    this.#router = router;
    this.#zap = zap;
    this.address = address;
    this.#limit = new SenderRateLimit(options.ratePerSender);
    this.#unsubscribe = options.registry.onChange((event, worker) => {
      // Removed by someone else (the admin API): forget it; its next heartbeat adds it again.
      if (event === 'removed' && this.#entries.get(worker.id)?.worker === worker)
        this.#entries.delete(worker.id);
    });
    this.#sweepTimer = setInterval(
      () => this.sweep(),
      Math.max(MIN_SWEEP_MS, Math.floor(options.ttlMs / SWEEPS_PER_TTL)),
    );
    this.#sweepTimer.unref();
    this.#loop = this.#receiveLoop();
  }

  /** Binds the ROUTER (and its ZAP handler) and starts receiving; rejects when the address cannot be bound. */
  static async start(options: ZmqRegistrationOptions): Promise<ZmqRegistration> {
    let instance: ZmqRegistration | undefined;
    let zap: ZapAllowHandler | undefined;
    let context: zmq.Context | undefined;
    if (options.allow.length > 0) {
      // ZAP's inproc endpoint is per context and only one handler may bind it: own a context.
      context = new zmq.Context({ blocky: false });
      zap = await ZapAllowHandler.start(context, options.allow, (address) => {
        options.metrics.rejected('zmq', 'not_allowed');
        // `instance` is set as soon as the ROUTER is bound; a refusal racing that is counted, not logged.
        if (instance === undefined) return;
        instance.#logRefusal(
          SENDER_REFUSAL,
          'not_allowed',
          `connection from ${address} refused: the sender is outside --discovery-allow`,
          address,
        );
      });
    }
    const router = new zmq.Router({
      ...(context === undefined
        ? {}
        : // A non-empty domain turns ZAP on for NULL security; enforcing it makes a missing
          // handler refuse every connection instead of admitting all (fail closed).
          { context, zapDomain: ZAP_DOMAIN, zapEnforceDomain: true }),
      handover: true,
      linger: 0,
      // Larger messages disconnect their sender inside libzmq; smaller ones are refused and counted.
      maxMessageSize: MAX_REGISTRATION_BYTES * 16,
    });
    const port = options.port === 0 ? '*' : String(options.port);
    try {
      await router.bind(`tcp://${options.host}:${port}`);
    } catch (error) {
      router.close();
      await zap?.stop();
      throw error;
    }
    const endpoint = router.lastEndpoint ?? `tcp://${options.host}:${port}`;
    instance = new ZmqRegistration(options, router, zap, endpoint.replace(/^tcp:\/\//, ''));
    return instance;
  }

  /** Workers currently known through registration. */
  get size(): number {
    return this.#entries.size;
  }

  /** Removes every entry silent for longer than the TTL (the timer's tick). */
  sweep(now = performance.now()): void {
    const { registry, metrics, log, ttlMs } = this.#options;
    this.#limit.sweep(now);
    for (const [id, entry] of this.#entries) {
      const silentMs = now - entry.seenAt;
      if (silentMs <= ttlMs) continue;
      this.#entries.delete(id);
      registry.remove(id);
      metrics.removal('zmq', entry.worker.role, 'expired');
      log.info(
        {
          worker: entry.worker.url,
          role: entry.worker.role,
          silentMs: Math.round(silentMs),
          inFlight: entry.worker.inFlight,
        },
        'registered worker expired: no heartbeat within the TTL; it leaves the pools (in-flight requests finish)',
      );
    }
  }

  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#unsubscribe();
    this.#router.close();
    await this.#loop;
    await this.#zap?.stop();
  }

  async #receiveLoop(): Promise<void> {
    while (!this.#closed) {
      let frames: Buffer[];
      try {
        frames = await this.#router.receive();
      } catch (error) {
        if (this.#closed) return;
        this.#options.metrics.error('zmq');
        this.#options.log.error({ err: error }, 'discovery: ZMQ receive failed; still listening');
        await new Promise((resolve) => setTimeout(resolve, RECEIVE_ERROR_PAUSE_MS));
        continue;
      }
      try {
        this.handle(frames);
      } catch (error) {
        // A bug must not end discovery: log it and keep receiving.
        this.#options.log.error({ err: error }, 'discovery: registration handling failed; still listening');
      }
    }
  }

  /** Handles one received message (its frames, routing id first). */
  handle(frames: readonly Uint8Array[]): void {
    const { registry, metrics, log, allow } = this.#options;
    // The sender is the ZeroMQ connection, named by its routing id (vLLM's: its ZMQ address;
    // libzmq makes one up when a peer sets none). Checked before any parsing.
    const routingId = frames[0];
    const sender = routingId === undefined ? '' : Buffer.from(routingId).toString('latin1');
    if (!this.#limit.take(sender)) {
      metrics.rejected('zmq', 'rate_limited');
      this.#logRefusal(
        'rate_limited',
        'rate_limited',
        `more than ${this.#options.ratePerSender} messages a second from one sender`,
        routingId === undefined ? undefined : printable(routingId),
      );
      return;
    }
    const parsed = parseRegistration(frames, allow);
    if (!parsed.ok) {
      metrics.rejected('zmq', parsed.error.reason);
      const id = frames[0];
      this.#logRefusal(
        parsed.error.reason,
        parsed.error.reason,
        parsed.error.message,
        id === undefined ? undefined : printable(id),
      );
      return;
    }
    const { role, spec, address } = parsed.value;
    const id = `${role}:${address.url}`;
    const now = performance.now();
    metrics.heartbeat('zmq');
    const entry = this.#entries.get(id);
    if (entry !== undefined) {
      if (entry.worker.address.zmq.text === address.zmq.text) {
        entry.seenAt = now;
        entry.worker.lastSeen = Date.now();
        return;
      }
      // Same HTTP address, another ZMQ address: the instance restarted with a new kv port.
      this.#entries.delete(id);
      registry.remove(id);
      metrics.removal('zmq', role, 'replaced');
      log.info(
        { worker: address.url, role, was: entry.worker.address.zmq.text, now: address.zmq.text },
        'registered worker announced a new ZMQ address; replacing it',
      );
    }
    const existing = registry.get(id);
    if (existing !== undefined) {
      // Listed statically, found in Kubernetes or added by an admin: theirs to manage, never expired here.
      existing.lastSeen = Date.now();
      return;
    }
    if (registry.countDiscovered() >= this.#options.maxWorkers) {
      metrics.rejected('zmq', 'max_workers');
      this.#logRefusal(
        'max_workers',
        'max_workers',
        `${address.url} not added: discovery already holds ${this.#options.maxWorkers} workers (--discovery-max-workers)`,
        printable(frames[0] ?? new Uint8Array()),
      );
      return;
    }
    const worker = registry.add({ role, spec, address, source: 'discovery', pending: true });
    worker.lastSeen = Date.now();
    this.#entries.set(id, { worker, seenAt: now });
    metrics.registration('zmq', role);
    log.info(
      { worker: worker.url, role, zmq: address.zmq.text },
      'worker registered; it joins the pools once it answers its health check',
    );
  }

  /** Logs a refusal, at most once per `key` per period (with how many were suppressed meanwhile). */
  #logRefusal(key: string, reason: RejectReason, message: string, peer: string | undefined): void {
    const now = performance.now();
    const last = this.#lastRefusalLog.get(key);
    if (last !== undefined && now - last < REFUSAL_LOG_PERIOD_MS) {
      this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1);
      return;
    }
    const suppressed = this.#suppressed.get(key) ?? 0;
    this.#suppressed.delete(key);
    this.#lastRefusalLog.set(key, now);
    this.#options.log.warn(
      { reason, peer, ...(suppressed > 0 ? { alsoRefusedSinceLastLog: suppressed } : {}) },
      `discovery: registration refused (${reason}): ${message}`,
    );
  }
}

/** A routing id for the log: vLLM's is its ZMQ address (text); anything else is shown as hex. */
function printable(id: Uint8Array): string {
  const text = Buffer.from(id).toString('latin1');
  return /^[\x20-\x7e]{1,64}$/.test(text) ? text : `0x${Buffer.from(id.subarray(0, 32)).toString('hex')}`;
}
