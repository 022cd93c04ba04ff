import { parseWorkerUrl } from '@pd-router/core';
import type { ConfigIssue } from './config-error.js';
import type { KvConnectorName, WorkerConfig } from './types.js';
import type { Locate } from './validate.js';

const ZMQ_UNUSED = { zmqUnused: true } as const;

/** A worker list item after schema validation: a spec string, or `{ url, bootstrapPort }`. */
export type RawWorker = string | { readonly url: string; readonly bootstrapPort?: number | null };

export interface WorkersResult {
  readonly workers: WorkerConfig[];
  readonly issues: ConfigIssue[];
  readonly warnings: string[];
}

/**
 * Parses one pool's worker specs with core's parseWorkerUrl: one issue per bad spec (named by its
 * flag occurrence or file index), duplicates rejected (a worker listed twice would get twice the
 * traffic under round_robin and break the unique worker ids), and a warning for P2P NCCL workers
 * whose ZMQ address had to be guessed from their HTTP address (NIXL workers need none: with
 * `kvConnector: 'nixl'` a plain `http://[::1]:8000` is fine too).
 */
export function parseWorkers(
  role: 'prefill' | 'decode',
  raw: readonly RawWorker[],
  kvConnector: KvConnectorName,
  locate: Locate,
): WorkersResult {
  const workers: WorkerConfig[] = [];
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const firstIndex = new Map<string, number>();
  // Only P2P NCCL puts a ZMQ address into the request id.
  const nixl = kvConnector !== 'p2p-nccl';
  raw.forEach((item, index) => {
    const spec = typeof item === 'string' ? item : item.url;
    const bootstrapPort = typeof item === 'string' ? undefined : (item.bootstrapPort ?? undefined);
    const where = locate([role, index]);
    // NIXL never uses the ZMQ address, so IPv6 workers need no `:zmq://` there.
    const parsed = parseWorkerUrl(spec, nixl ? ZMQ_UNUSED : undefined);
    if (!parsed.ok) {
      issues.push({ path: where, message: parsed.error.message });
      return;
    }
    const address = parsed.value;
    const previous = firstIndex.get(address.url);
    if (previous !== undefined) {
      issues.push({
        path: where,
        message: `${address.url} is already listed at ${locate([role, previous])}`,
      });
      return;
    }
    firstIndex.set(address.url, index);
    if (address.zmqFromHttp && kvConnector === 'p2p-nccl') {
      warnings.push(
        `${where}: ${spec} has no :zmq://HOST:PORT, so request ids will name ${address.zmq.text} (its HTTP address) as its P2P NCCL ZMQ address; KV transfers fail or hang unless that is right: give URL:zmq://HOST:KV_PORT.`,
      );
    }
    workers.push(bootstrapPort === undefined ? { spec, address } : { spec, address, bootstrapPort });
  });
  return { workers, issues, warnings };
}
