import { PdError, type PdErrorOptions } from '@pd-router/core';

/**
 * Every error code the bench can raise. Stable and listed in docs/errors.md (test-enforced).
 * @example BENCH_ERROR_CODES.includes('PD_ERR_BENCH_USAGE'); // true
 */
export const BENCH_ERROR_CODES = [
  'PD_ERR_BENCH_USAGE',
  'PD_ERR_BENCH_TARGET_START',
  'PD_ERR_BENCH_CLUSTER_START',
] as const;

/**
 * One of {@link BENCH_ERROR_CODES}.
 * @example const code: BenchErrorCode = 'PD_ERR_BENCH_USAGE';
 */
export type BenchErrorCode = (typeof BENCH_ERROR_CODES)[number];

/**
 * A benchmark that cannot run as asked: bad options (the CLI exits with status 2), or a target or
 * the mock cluster that did not start (the message carries the tail of its log).
 * @example
 * try { parseBenchArgs(['--rounds', '0']); } catch (e) { if (e instanceof BenchError) console.error(e.code); }
 */
export class BenchError extends PdError<BenchErrorCode> {
  constructor(code: BenchErrorCode, message: string, options: PdErrorOptions = {}) {
    super(code, message, options);
    this.name = 'BenchError';
  }
}
