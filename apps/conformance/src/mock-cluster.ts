import { createMockVllm, type MockVllm } from '@pd-router/mock-vllm';
import { startWorkerTap, type TapAnswer, type WorkerTap } from './worker-tap.js';

/** One worker as the router sees it: a tap, with (usually) a mock-vllm instance behind it. */
export interface TappedWorker {
  readonly role: 'prefill' | 'decode';
  readonly tap: WorkerTap;
  /** Absent when the tap answers itself (the NIXL prefill, until mock-vllm has a NIXL mode). */
  readonly mock: MockVllm | undefined;
  /** The router's worker flag value: the tap's URL, plus `:zmq://` the mock's KV address for P2P NCCL. */
  readonly spec: string;
  /** Mooncake prefills: the port of the mock's bootstrap server (given after the spec). */
  readonly bootstrapPort: number | undefined;
  /** The mock's KV (ZMQ) address, "127.0.0.1:PORT"; what the request id must name. */
  readonly kvAddress: string | undefined;
}

export interface TappedCluster {
  readonly prefill: readonly TappedWorker[];
  readonly decode: readonly TappedWorker[];
  /** `--prefill X ... --decode Y ...` in worker order. */
  readonly workerFlags: readonly string[];
  close(): Promise<void>;
}

export interface TappedClusterOptions {
  readonly prefill: number;
  readonly decode: number;
  /** `p2p-nccl`: prefill/decode mocks with the ZMQ KV hand-off; `nixl`: plain decode mocks, taps answer
   * prefills; `mooncake`: mocks in Mooncake mode (bootstrap servers, KV pulled by transfer_id). */
  readonly connector: 'p2p-nccl' | 'nixl' | 'mooncake';
  /** Mooncake: each prefill's engine ids, one per DP rank, as the capture's bootstrap servers named them. */
  readonly engineIds?: readonly (readonly string[])[];
  /** Golden fixtures directory: the mocks run in conformance mode and record verdicts. */
  readonly fixtures?: string;
  /** `OPENAI_API_KEY` the router runs with, so the mocks compare with captures made the same way. */
  readonly apiKey?: string | null;
  /** NIXL: what a prefill tap answers. */
  readonly prefillAnswer?: TapAnswer;
  /** Prefill time to first token (ms): a prefill that takes time makes the ordering check meaningful. */
  readonly prefillTtftMs?: number;
}

/** Mooncake: a decode whose transfer fails answers at once (vLLM's never does), so a wrong id fails fast. */
const MOONCAKE_MOCK = { kvMode: 'error', mooncakeAbortTimeoutMs: 5_000 } as const;

async function startWorker(
  role: 'prefill' | 'decode',
  index: number,
  o: TappedClusterOptions,
): Promise<TappedWorker> {
  if (o.connector === 'nixl' && role === 'prefill') {
    const tap = await startWorkerTap(o.prefillAnswer === undefined ? {} : { answer: o.prefillAnswer });
    return { role, tap, mock: undefined, spec: tap.url, kvAddress: undefined, bootstrapPort: undefined };
  }
  // The tap is needed first (its port is the Host the mock must expect), then the mock behind it.
  let mock: MockVllm | undefined;
  const tap = await startWorkerTap();
  try {
    const p2p = o.connector === 'p2p-nccl';
    const mooncake = o.connector === 'mooncake';
    const engineIds = role === 'prefill' ? o.engineIds?.[index] : undefined;
    mock = await createMockVllm({
      role: p2p || mooncake ? role : 'both',
      // A 'both' instance records no verdicts, so only P2P NCCL and Mooncake mocks get the fixtures.
      ...(o.fixtures === undefined || !(p2p || mooncake) ? {} : { fixtures: o.fixtures }),
      ...(mooncake ? { kvConnector: 'mooncake', ...MOONCAKE_MOCK } : {}),
      ...(engineIds === undefined ? {} : { mooncakeEngineIds: engineIds }),
      ...(role === 'prefill' && o.prefillTtftMs !== undefined
        ? { timing: { ttftBaseMs: o.prefillTtftMs } }
        : {}),
      kvWaitTimeoutMs: 10_000,
      conformanceContext: {
        workerHostHeader: tap.hostPort,
        ...(o.apiKey === undefined ? {} : { apiKey: o.apiKey }),
      },
    });
    tap.forwardTo(mock.port);
    const kvAddress = p2p ? mock.kvAddress : undefined;
    const spec = kvAddress === undefined ? tap.url : `${tap.url}:zmq://${kvAddress}`;
    return { role, tap, mock, spec, kvAddress, bootstrapPort: mock.bootstrapPort };
  } catch (e) {
    await Promise.all([tap.close(), mock?.close()]);
    throw e;
  }
}

/**
 * Starts nP prefill and nD decode workers on 127.0.0.1 port 0, each a mock-vllm instance behind a
 * recording tap, and the router flags that name them in order (round robin pairs by flag order).
 *
 * @example
 * const cluster = await startTappedCluster({ prefill: 1, decode: 1, connector: 'p2p-nccl' });
 * // router ... ${cluster.workerFlags.join(' ')}
 * await cluster.close();
 */
export async function startTappedCluster(o: TappedClusterOptions): Promise<TappedCluster> {
  const started: TappedWorker[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(started.flatMap((w) => [w.tap.close(), w.mock?.close()]));
  };
  try {
    for (let i = 0; i < o.prefill; i++) started.push(await startWorker('prefill', i, o));
    for (let i = 0; i < o.decode; i++) started.push(await startWorker('decode', i, o));
  } catch (e) {
    await close();
    throw e;
  }
  const prefill = started.filter((w) => w.role === 'prefill');
  const decode = started.filter((w) => w.role === 'decode');
  return {
    prefill,
    decode,
    // vllm-router's syntax: a Mooncake prefill's bootstrap port follows its URL.
    workerFlags: [
      ...prefill.flatMap((w) =>
        w.bootstrapPort === undefined
          ? ['--prefill', w.spec]
          : ['--prefill', w.spec, String(w.bootstrapPort)],
      ),
      ...decode.flatMap((w) => ['--decode', w.spec]),
    ],
    close,
  };
}
