import { err, ok, type Result } from '@pd-router/core';

/** One `key=value` equality requirement of a label selector. */
export interface LabelRequirement {
  readonly key: string;
  readonly value: string;
}

const NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const KEY = new RegExp(`^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?/)?${NAME}$`);
const VALUE = new RegExp(`^(?:${NAME})?$`);

/**
 * Parses one `key=value` item of `--selector` / `--prefill-selector` / `--decode-selector`
 * (vllm-router's syntax: equality only). Keys and values follow Kubernetes' label syntax, so a
 * typo is reported at startup rather than by the API server on every watch.
 *
 * @example
 * parseLabelRequirement('app.kubernetes.io/component=prefill'); // ok { key, value }
 */
export function parseLabelRequirement(text: string): Result<LabelRequirement, string> {
  const eq = text.indexOf('=');
  if (eq === -1) return err(`"${text}" is not key=value`);
  const key = text.slice(0, eq);
  // Kubernetes also accepts "k==v"; read it as "k=v".
  const value = text.slice(text.startsWith('=', eq + 1) ? eq + 2 : eq + 1);
  if (!KEY.test(key)) return err(`"${text}": "${key}" is not a valid label key`);
  if (!VALUE.test(value)) return err(`"${text}": "${value}" is not a valid label value`);
  return ok({ key, value });
}

/** The API server's `labelSelector` query value (`a=b,c=d`). */
export function formatLabelSelector(requirements: readonly LabelRequirement[]): string {
  return requirements.map((r) => `${r.key}=${r.value}`).join(',');
}

/** True when `labels` satisfies every requirement; an empty selector matches nothing (as vllm-router). */
export function matchesLabels(
  labels: Readonly<Record<string, string>> | undefined,
  requirements: readonly LabelRequirement[],
): boolean {
  if (requirements.length === 0 || labels === undefined) return false;
  return requirements.every((r) => labels[r.key] === r.value);
}
