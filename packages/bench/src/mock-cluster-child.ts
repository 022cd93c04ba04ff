/**
 * Entry of the mock-cluster child process (forked by `startMockCluster`): one prefill and one
 * decode mock-vllm server on 127.0.0.1, ephemeral HTTP and ZeroMQ ports, the requested timing and
 * KV connector (P2P NCCL's ZMQ hand-off, or NIXL's kv_transfer_params and side channel).
 * It reports its addresses over IPC and stops when asked (SIGTERM) or when the bench goes away.
 */
import { createMockVllm, type PresetName, TIMING_PRESETS, type TimingOptions } from '@pd-router/mock-vllm';
import {
  type ClusterMessage,
  isClusterMessage,
  type KvConnectorName,
  type MockTiming,
  type PerfMessage,
} from './cluster/cluster-protocol.js';

interface RunningMock {
  readonly url: string;
  readonly kvAddress: string;
  close(): Promise<void>;
}

const running: RunningMock[] = [];

function send(message: ClusterMessage): void {
  process.send?.(message);
}

/** `tcp://h:p` or `h:p` → `h:p` (the form P2P NCCL ids carry). */
function hostPort(address: string): string {
  return address.replace(/^tcp:\/\//, '');
}

/** The bench keeps no request log: at 100 KB a body, mock-vllm's default 10,000 would be a GB. */
const MAX_RECEIVED = 1;
const TIMING_FIELDS: readonly string[] = Object.keys(TIMING_PRESETS.instant);

function isPreset(name: string): name is PresetName {
  return Object.hasOwn(TIMING_PRESETS, name);
}

interface StartShape {
  readonly prefills: number;
  readonly decodes: number;
  readonly perf: PerfMessage | undefined;
}

async function start(
  preset: string,
  timing: MockTiming,
  kvConnector: KvConnectorName,
  shape: StartShape,
): Promise<void> {
  if (!isPreset(preset)) {
    throw new Error(`unknown mock preset "${preset}"; known: ${Object.keys(TIMING_PRESETS).join(', ')}`);
  }
  const unknown = Object.keys(timing).filter((k) => !TIMING_FIELDS.includes(k));
  if (unknown.length > 0) throw new Error(`unknown mock timing field(s): ${unknown.join(', ')}`);
  const common = {
    port: 0,
    kvPort: 0,
    host: '127.0.0.1',
    preset,
    timing: timing as Partial<TimingOptions>,
    maxReceived: MAX_RECEIVED,
    kvConnector,
    ...(shape.perf ?? {}),
  };
  const endpoints = async (role: 'prefill' | 'decode', n: number) => {
    const out: { url: string; kvAddress: string }[] = [];
    for (let i = 0; i < n; i++) {
      const mock = await createMockVllm({ ...common, role });
      running.push(mock);
      out.push({ url: mock.url.replace(/\/$/, ''), kvAddress: hostPort(mock.kvAddress) });
    }
    return out;
  };
  const prefills = await endpoints('prefill', shape.prefills);
  const decodes = await endpoints('decode', shape.decodes);
  send({
    type: 'ready',
    prefill: prefills[0]!,
    decode: decodes[0]!,
    prefills,
    decodes,
    interTokenMs: timing['interTokenMs'] ?? TIMING_PRESETS[preset].interTokenMs,
  });
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(running.map((mock) => mock.close()));
  process.exit(0);
}

process.on('message', (message: unknown) => {
  if (!isClusterMessage(message) || message.type !== 'start') return;
  start(message.preset, message.timing, message.kvConnector ?? 'p2p-nccl', {
    prefills: message.prefills ?? 1,
    decodes: message.decodes ?? 1,
    perf: message.perf,
  }).catch((error: unknown) => {
    send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
});
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The bench died without stopping us: do not linger as an orphan holding ports.
process.on('disconnect', () => void stop());
