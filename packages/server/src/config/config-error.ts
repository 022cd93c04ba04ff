import { PdError } from '@pd-router/core';

/** One problem found in the configuration. `path` names where it came from, for the user. */
export interface ConfigIssue {
  /** A flag (`--port`), a flag occurrence (`--prefill[1]`), or a file location (`pd.yaml: cacheAware.cacheThreshold`). */
  readonly path: string;
  readonly message: string;
}

/** The codes of configuration errors (listed in docs/errors.md, test-enforced). */
export const CONFIG_ERROR_CODES = ['PD_ERR_CONFIG_INVALID'] as const;
export type ConfigErrorCode = (typeof CONFIG_ERROR_CODES)[number];

/**
 * Every problem of a configuration at once (never just the first), so one run shows the user all
 * they must fix. The CLI prints `issues` one per line and exits with status 2.
 *
 * @example
 * const result = loadConfig({ argv: ['--port', 'x'], env: {} });
 * if (!result.ok) console.error(result.error.issues.map(formatConfigIssue).join('\n'));
 */
export class ConfigError extends PdError<ConfigErrorCode> {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super('PD_ERR_CONFIG_INVALID', `invalid configuration:\n${issues.map(formatConfigIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
  }
}

/** `path: message` (or just the message when the problem has no location). */
export function formatConfigIssue(issue: ConfigIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}
