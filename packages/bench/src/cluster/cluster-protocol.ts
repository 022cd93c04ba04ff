/**
 * The IPC messages between the bench and its mock-cluster child. Plain JSON, checked on arrival:
 * the child is our own code, but a message that does not parse should fail loudly, not as an
 * `undefined` deep inside the run.
 */

/** The KV connectors the mocks (and pd-router) speak. */
export const KV_CONNECTORS = ['p2p-nccl', 'nixl'] as const;
export type KvConnectorName = (typeof KV_CONNECTORS)[number];

/** Timing overrides for mock-vllm, by its option names (milliseconds or counts). */
export type MockTiming = Readonly<Record<string, number>>;

export interface EndpointMessage {
  readonly url: string;
  readonly kvAddress: string;
}

/** mock-vllm's performance model options (`modelProfile`, `timeScale`, `kvCacheTokens`). */
export interface PerfMessage {
  readonly modelProfile: string;
  readonly timeScale: number;
  readonly kvCacheTokens?: number;
}

export type ClusterMessage =
  | {
      readonly type: 'start';
      readonly preset: string;
      readonly timing: MockTiming;
      readonly kvConnector?: KvConnectorName;
      /** Instances per role (default 1 each). */
      readonly prefills?: number;
      readonly decodes?: number;
      readonly perf?: PerfMessage;
    }
  | {
      readonly type: 'ready';
      readonly prefill: EndpointMessage;
      readonly decode: EndpointMessage;
      /** Every instance per role (`prefill`/`decode` are the first of each). */
      readonly prefills: readonly EndpointMessage[];
      readonly decodes: readonly EndpointMessage[];
      /** The decode mock's effective pause between tokens (preset and overrides resolved). */
      readonly interTokenMs: number;
    }
  | { readonly type: 'error'; readonly message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isEndpoint(value: unknown): value is EndpointMessage {
  return isRecord(value) && typeof value['url'] === 'string' && typeof value['kvAddress'] === 'string';
}

function isCount(value: unknown): boolean {
  return value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 1);
}

function isPerf(value: unknown): boolean {
  return (
    value === undefined ||
    (isRecord(value) &&
      typeof value['modelProfile'] === 'string' &&
      typeof value['timeScale'] === 'number' &&
      (value['kvCacheTokens'] === undefined || typeof value['kvCacheTokens'] === 'number'))
  );
}

function isTiming(value: unknown): value is MockTiming {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'number');
}

export function isClusterMessage(value: unknown): value is ClusterMessage {
  if (!isRecord(value)) return false;
  switch (value['type']) {
    case 'start':
      return (
        typeof value['preset'] === 'string' &&
        isTiming(value['timing']) &&
        (value['kvConnector'] === undefined ||
          (KV_CONNECTORS as readonly unknown[]).includes(value['kvConnector'])) &&
        isCount(value['prefills']) &&
        isCount(value['decodes']) &&
        isPerf(value['perf'])
      );
    case 'ready':
      return (
        isEndpoint(value['prefill']) &&
        isEndpoint(value['decode']) &&
        Array.isArray(value['prefills']) &&
        value['prefills'].every(isEndpoint) &&
        Array.isArray(value['decodes']) &&
        value['decodes'].every(isEndpoint) &&
        typeof value['interTokenMs'] === 'number'
      );
    case 'error':
      return typeof value['message'] === 'string';
    default:
      return false;
  }
}
