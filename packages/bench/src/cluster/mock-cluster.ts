import { type ChildProcess, fork } from 'node:child_process';
import { distFile } from '../dist-file.js';
import { openLog, stopChild } from '../proc/child-process.js';
import {
  type ClusterMessage,
  isClusterMessage,
  type KvConnectorName,
  type MockTiming,
  type PerfMessage,
} from './cluster-protocol.js';

/**
 * The mock vLLM cluster (one prefill, one decode) in its own child process, so the generator, the
 * router and the mocks never share an event loop: a busy mock would otherwise slow the generator
 * and the numbers would describe the bench, not the router.
 */

export interface WorkerEndpoint {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** The ZeroMQ KV address as `host:port` (what goes into P2P NCCL request ids). */
  readonly kvAddress: string;
}

export interface ClusterAddresses {
  readonly prefill: WorkerEndpoint;
  readonly decode: WorkerEndpoint;
}

export interface MockClusterOptions {
  /** mock-vllm timing preset, e.g. `instant` or `realistic`. */
  readonly preset: string;
  /** Timing overrides passed to both mocks (mock-vllm option names). */
  readonly timing?: MockTiming;
  /** The mocks' KV connector (mock-vllm's `kvConnector`); absent: `p2p-nccl`. */
  readonly kvConnector?: KvConnectorName;
  /** Instances per role (default 1 each). */
  readonly prefills?: number;
  readonly decodes?: number;
  /** Run the mocks on mock-vllm's performance model instead of the timing preset. */
  readonly perf?: PerfMessage;
  /** File that receives the child's stdout and stderr. */
  readonly logPath?: string;
  readonly startTimeoutMs?: number;
}

export interface MockCluster extends ClusterAddresses {
  readonly pid: number;
  /** Every instance per role (`prefill`/`decode` are the first of each). */
  readonly prefills: readonly WorkerEndpoint[];
  readonly decodes: readonly WorkerEndpoint[];
  /** The mocks' pause between two streamed tokens (ms), the preset and overrides resolved. */
  readonly interTokenMs: number;
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Forks the mock cluster and resolves once both mocks listen.
 *
 * @example
 * const cluster = await startMockCluster({ preset: 'instant' });
 * console.log(cluster.prefill.url, cluster.decode.kvAddress);
 * await cluster.stop();
 */
export async function startMockCluster(options: MockClusterOptions): Promise<MockCluster> {
  const log = openLog(options.logPath);
  const child: ChildProcess = fork(distFile('mock-cluster-child.js'), [], {
    stdio: ['ignore', log, log, 'ipc'],
    serialization: 'json',
  });
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  try {
    const ready = await new Promise<Extract<ClusterMessage, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`mock cluster: not ready after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(new Error(`mock cluster: exited during start (code ${code}, signal ${signal})`));
      };
      child.once('exit', onExit);
      child.on('message', (message: unknown) => {
        if (!isClusterMessage(message)) return;
        clearTimeout(timer);
        child.off('exit', onExit);
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'error') reject(new Error(`mock cluster: ${message.message}`));
      });
      const start: ClusterMessage = {
        type: 'start',
        preset: options.preset,
        timing: options.timing ?? {},
        ...(options.kvConnector === undefined ? {} : { kvConnector: options.kvConnector }),
        ...(options.prefills === undefined ? {} : { prefills: options.prefills }),
        ...(options.decodes === undefined ? {} : { decodes: options.decodes }),
        ...(options.perf === undefined ? {} : { perf: options.perf }),
      };
      child.send(start);
    });
    return {
      pid: child.pid!,
      prefill: ready.prefill,
      decode: ready.decode,
      prefills: ready.prefills,
      decodes: ready.decodes,
      interTokenMs: ready.interTokenMs,
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}
