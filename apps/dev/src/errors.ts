/**
 * Every error code the dev stack reports. They end the `pnpm dev` process with a message (they are
 * never sent over HTTP). Each code is listed in docs/errors.md (test-enforced).
 */
export const DEV_ERROR_CODES = [
  'PD_ERR_DEV_OPTION_INVALID',
  'PD_ERR_DEV_PORT_IN_USE',
  'PD_ERR_DEV_CHILD_FAILED',
  'PD_ERR_DEV_START_TIMEOUT',
] as const;

export type DevErrorCode = (typeof DEV_ERROR_CODES)[number];

/**
 * Thrown while parsing `pnpm dev` options and while starting or watching the cluster. Match on `code`.
 *
 * @example
 * try { parseDevArgs(['--prefill-count', '0']); }
 * catch (e) { if (e instanceof DevError && e.code === 'PD_ERR_DEV_OPTION_INVALID') ... }
 */
export class DevError extends Error {
  readonly code: DevErrorCode;

  constructor(code: DevErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'DevError';
    this.code = code;
  }
}
