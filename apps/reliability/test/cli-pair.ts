import { afterAll, beforeAll } from 'vitest';
import { type CliPair, startCliPair } from '../src/harness/router-process.js';
import type { ResultRecorder } from '../src/report/recorder.js';

/**
 * A mock-vllm pair with the router CLI in front, started before the file's tests and closed after
 * them (then the recorder is flushed); read `pair` inside tests.
 */
export function cliPairForFile(
  recorder: ResultRecorder,
  ...args: Parameters<typeof startCliPair>
): { readonly pair: CliPair } {
  let pair: CliPair | undefined;
  beforeAll(async () => {
    pair = await startCliPair(...args);
  });
  afterAll(async () => {
    await pair?.close();
    recorder.flush();
  });
  return {
    get pair(): CliPair {
      if (pair === undefined) throw new Error('the CLI pair is not started');
      return pair;
    },
  };
}
