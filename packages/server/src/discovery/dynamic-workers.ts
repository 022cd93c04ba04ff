import type { FastifyInstance } from 'fastify';
import { adminRoutes } from '../admin/admin-routes.js';
import { ServerError } from '../errors.js';
import { ActiveHealthChecker } from '../health/active-checker.js';
import { DEFAULT_CHECK_RULES } from '../health/worker-health.js';

/** The check timeout when a hand-built Config has no `health` (loadConfig always sets it). */
const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

import {
  DEFAULT_DISCOVERY_ALLOW,
  DEFAULT_DISCOVERY_MAX_WORKERS,
  DEFAULT_DISCOVERY_RATE_LIMIT,
} from '../config/schema.js';
import { DynamicWorkerMetrics } from '../workers/dynamic-metrics.js';
import { type Cidr, parseCidr } from './cidr.js';
import type { KubernetesDiscovery } from './kubernetes.js';
import { type LabelRequirement, parseLabelRequirement } from './label-selector.js';
import { ZmqRegistration } from './zmq-registration.js';

/** What buildServer started for dynamic workers; all of it stops in onClose. */
export interface DynamicWorkers {
  readonly metrics: DynamicWorkerMetrics;
  /** The ZMQ registration ROUTER (`--vllm-discovery-address`); `address` is the bound host:port. */
  readonly zmq: ZmqRegistration | undefined;
  readonly kubernetes: KubernetesDiscovery | undefined;
  readonly healthChecker: ActiveHealthChecker;
  /** What an operator must know about how exposed discovery is (shown in /workers and /admin/workers). */
  readonly warnings: readonly string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Discovery sources, health checks and circuit breaker of this router. */
    readonly dynamicWorkers: DynamicWorkers;
  }
}

export interface DynamicWorkersDeps {
  /** Environment, read for the in-cluster Kubernetes check; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Starts what makes the worker set dynamic, as configured: the health rules (circuit breaker and
 * check thresholds, fed by `registry.reportSuccess/reportFailure`), active health checks, ZMQ registration,
 * Kubernetes discovery, and the admin API routes. Call once from buildServer, after the `pd`
 * decoration. Rejects (PD_ERR_DISCOVERY_START_FAILED) when the registration address cannot be bound
 * or no Kubernetes configuration is found: a router that was asked to discover workers and
 * cannot must not start silently without them.
 *
 * @example
 * await installDynamicWorkers(app);
 * app.dynamicWorkers.zmq?.address; // '127.0.0.1:30001'
 */
export async function installDynamicWorkers(
  app: FastifyInstance,
  deps: DynamicWorkersDeps = {},
): Promise<void> {
  const ctx = app.pd;
  const { config, registry } = ctx;
  const log = app.log;
  const metrics = new DynamicWorkerMetrics(ctx.metrics.registry, registry);
  const health = config.health;
  const started: { stop(): void | Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  };

  try {
    registry.configureHealth({
      circuit:
        health === undefined || health.circuitFailureThreshold <= 0
          ? undefined
          : {
              failureThreshold: health.circuitFailureThreshold,
              successThreshold: health.circuitSuccessThreshold ?? 1,
              openMs: health.circuitOpenMs,
              windowMs: health.circuitWindowMs ?? Number.POSITIVE_INFINITY,
            },
      checks: {
        failureThreshold: health?.failureThreshold ?? DEFAULT_CHECK_RULES.failureThreshold,
        successThreshold: health?.successThreshold ?? DEFAULT_CHECK_RULES.successThreshold,
      },
      events: metrics,
      log,
    });
    started.push({ stop: () => registry.stopHealth() });
    // Always: besides the periodic checks (when on), it admits discovered workers once they answer.
    const healthChecker = new ActiveHealthChecker({
      registry,
      intervalMs: health?.checkIntervalMs ?? 0,
      timeoutMs: health?.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
      ...(health?.checkPath === undefined ? {} : { path: health.checkPath }),
    });
    healthChecker.start();
    started.push(healthChecker);

    let zmq: ZmqRegistration | undefined;
    const warnings: string[] = [];
    const maxWorkers = config.discoveryMaxWorkers ?? DEFAULT_DISCOVERY_MAX_WORKERS;
    const discovery = config.discovery;
    if (discovery !== undefined) {
      const allow = discovery.allow.length > 0 ? discovery.allow : DEFAULT_DISCOVERY_ALLOW;
      try {
        zmq = await ZmqRegistration.start({
          registry,
          host: discovery.host,
          port: discovery.port,
          ttlMs: discovery.ttlMs,
          allow: allow.map((text) => validCidr(parseCidr(text), text)),
          maxWorkers,
          ratePerSender: discovery.ratePerSender ?? DEFAULT_DISCOVERY_RATE_LIMIT,
          metrics,
          log,
        });
      } catch (error) {
        throw new ServerError(
          'PD_ERR_DISCOVERY_START_FAILED',
          `cannot bind the registration socket tcp://${discovery.host}:${discovery.port}: ${messageOf(error)}`,
          { cause: error },
        );
      }
      started.push(zmq);
      log.info(
        { address: zmq.address, ttlMs: discovery.ttlMs, allow, maxWorkers },
        `listening for vLLM P2P NCCL registrations on tcp://${zmq.address}`,
      );
      const open = openDiscoveryWarning(zmq.address, discovery.allow);
      if (open !== undefined) {
        warnings.push(open);
        log.warn({ address: zmq.address, allow }, `SECURITY: ${open}`);
      }
    }

    let kubernetes: KubernetesDiscovery | undefined;
    const k8s = config.kubernetes;
    if (k8s !== undefined) {
      // Loaded only when asked for: the Kubernetes client is large and most routers never need it.
      const { KubernetesDiscovery, loadKubeConfig } = await import('./kubernetes.js');
      let kubeConfig: ReturnType<typeof loadKubeConfig>;
      try {
        kubeConfig = loadKubeConfig(k8s.kubeconfig, deps.env ?? process.env);
      } catch (error) {
        throw new ServerError('PD_ERR_DISCOVERY_START_FAILED', `Kubernetes discovery: ${messageOf(error)}`, {
          cause: error,
        });
      }
      kubernetes = new KubernetesDiscovery({
        registry,
        kubeConfig,
        namespace: k8s.namespace,
        selection: {
          selector: labels(k8s.selector),
          prefillSelector: labels(k8s.prefillSelector),
          decodeSelector: labels(k8s.decodeSelector),
          port: k8s.port,
          zmqUnused: config.kvConnector !== 'p2p-nccl',
        },
        metrics,
        log,
        warnMissingZmq: config.kvConnector === 'p2p-nccl',
        maxWorkers,
      });
      kubernetes.start();
      started.push(kubernetes);
      log.info(
        { namespace: k8s.namespace ?? '(all)', prefill: k8s.prefillSelector, decode: k8s.decodeSelector },
        'watching Kubernetes pods for workers',
      );
    }

    const dynamic: DynamicWorkers = { metrics, zmq, kubernetes, healthChecker, warnings };
    app.decorate('dynamicWorkers', dynamic);
    if (config.adminApiKey !== undefined) await app.register(adminRoutes);
  } catch (error) {
    await stopAll();
    throw error;
  }
  app.addHook('onClose', stopAll);
}

/**
 * The start-up warning (and /workers line) for a registration socket not limited by an explicit
 * `--discovery-allow`, or limited by one that admits everyone; undefined when it is limited.
 */
export function openDiscoveryWarning(address: string, explicit: readonly string[]): string | undefined {
  if (explicit.length === 0) {
    return `ZMQ registration on tcp://${address} runs without --discovery-allow: any host in a private or loopback range (${DEFAULT_DISCOVERY_ALLOW.join(', ')}) that reaches it can register a worker, which then receives prompts and the upstream key once it answers GET /health. Set --discovery-allow to your vLLM hosts' ranges.`;
  }
  if (explicit.some((text) => text.endsWith('/0'))) {
    return `ZMQ registration on tcp://${address} admits any IPv4 sender (--discovery-allow ${explicit.join(',')}): any host that reaches it can register a worker, which then receives prompts and the upstream key once it answers GET /health.`;
  }
  return undefined;
}

/** Config values were validated by loadConfig; a failure here is a programming error. */
function validCidr(result: { ok: true; value: Cidr } | { ok: false; error: string }, text: string): Cidr {
  if (!result.ok) throw new Error(`unvalidated CIDR ${text}: ${result.error}`);
  return result.value;
}

function labels(items: readonly string[]): LabelRequirement[] {
  return items.map((text) => {
    const parsed = parseLabelRequirement(text);
    if (!parsed.ok) throw new Error(`unvalidated label selector ${text}: ${parsed.error}`);
    return parsed.value;
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
