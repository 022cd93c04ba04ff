import type { KvConnectorName } from '../config/types.js';
import { ServerError } from '../errors.js';
import { p2pNcclConnector } from './p2p-nccl.js';
import type { KvConnector } from './types.js';

/**
 * The connector for a configured name. Throws at startup for one not implemented yet (NIXL, issue 8).
 *
 * @example
 * const connector = createConnector('p2p-nccl');
 */
export function createConnector(name: KvConnectorName): KvConnector {
  if (name === 'p2p-nccl') return p2pNcclConnector;
  throw new ServerError('PD_ERR_KV_CONNECTOR_UNSUPPORTED', `KV connector "${name}" is not supported yet`);
}

export { p2pNcclConnector } from './p2p-nccl.js';
export type { KvConnector, PreparedRequest } from './types.js';
