import { DEFAULT_INTAKE_CONFIG, DEFAULT_NIXL_CONFIG } from '../config/schema.js';
import type { Config } from '../config/types.js';
import { createMooncakeConnector, type MooncakeEngines } from './mooncake.js';
import { createNixlConnector } from './nixl.js';
import { createP2pNcclConnector } from './p2p-nccl.js';
import type { KvConnector } from './types.js';

/**
 * The connector for the configured `kvConnector` (and, for NIXL, its `nixl` settings).
 *
 * @example
 * const connector = createConnector(config);
 */
export function createConnector(
  config: Pick<Config, 'kvConnector' | 'nixl' | 'intake'>,
  mooncake?: MooncakeEngines,
): KvConnector {
  const maxElements = (config.intake ?? DEFAULT_INTAKE_CONFIG).maxJsonElements;
  switch (config.kvConnector) {
    case 'p2p-nccl':
      return createP2pNcclConnector({ maxElements });
    case 'nixl':
      return createNixlConnector({ ...(config.nixl ?? DEFAULT_NIXL_CONFIG), maxElements });
    case 'mooncake':
      if (mooncake === undefined) throw new Error('the Mooncake connector needs its engine registry');
      return createMooncakeConnector(mooncake);
  }
}

export { createMooncakeConnector, DP_RANK_HEADER, MooncakeEngines } from './mooncake.js';
export type { NixlConnectorOptions } from './nixl.js';
export { createNixlConnector, NIXL_PREFILL_ANSWER_LIMIT_BYTES } from './nixl.js';
export type { NixlRecomputeReason } from './nixl-params.js';
export { createP2pNcclConnector, p2pNcclConnector } from './p2p-nccl.js';
export type {
  DecodeRequest,
  KvConnector,
  Leg,
  LegRun,
  PreparedRequest,
  SequentialConnector,
} from './types.js';
