import { beforeAll, describe, it } from 'vitest';
import { caseDirs, expectAllPass, MOONCAKE_FIXTURES, requireBuilt } from './helpers.js';

// The Mooncake golden set (vLLM's Mooncake connector proxy) against the real built router, run with
// --kv-connector mooncake and mock-vllm's Mooncake mode: what CI runs beside the other two sets.
describe('conformance app over fixtures/mooncake-proxy', () => {
  beforeAll(() => requireBuilt());

  it('passes every case with the built pd-router CLI', { timeout: 240_000 }, async () => {
    const targets = caseDirs(MOONCAKE_FIXTURES, 24);
    await expectAllPass(['--fixtures', 'fixtures/mooncake-proxy'], 230_000, targets);
  });
});
