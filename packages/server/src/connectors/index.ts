import { DEFAULT_NIXL_CONFIG } from '../config/schema.js';
import type { Config } from '../config/types.js';
import { createNixlConnector } from './nixl.js';
import { p2pNcclConnector } from './p2p-nccl.js';
import type { KvConnector } from './types.js';

/**
 * The connector for the configured `kvConnector` (and, for NIXL, its `nixl` settings).
 *
 * @example
 * const connector = createConnector(config);
 */
export function createConnector(config: Pick<Config, 'kvConnector' | 'nixl'>): KvConnector {
  switch (config.kvConnector) {
    case 'p2p-nccl':
      return p2pNcclConnector;
    case 'nixl':
      return createNixlConnector(config.nixl ?? DEFAULT_NIXL_CONFIG);
  }
}

export type { NixlConnectorOptions } from './nixl.js';
export { createNixlConnector, NIXL_PREFILL_ANSWER_LIMIT_BYTES } from './nixl.js';
export type { NixlRecomputeReason } from './nixl-params.js';
export { p2pNcclConnector } from './p2p-nccl.js';
export type {
  DecodeRequest,
  KvConnector,
  Leg,
  LegRun,
  PreparedRequest,
  SequentialConnector,
} from './types.js';
