import type { Scenario } from '../report/scenario.js';
import { HTTP_BODY_CASES } from './bad-input-http-cases.js';
import { JSON_BODY_CASES } from './bad-input-json-cases.js';
import { REQUEST_LINE_CASES } from './bad-input-request-line-cases.js';
import type { BadInputCase, Expectation } from './bad-input-wire.js';

export type { BadInputCase, BadInputSend, Expectation } from './bad-input-wire.js';
export { BAD_INPUT_MAX_PAYLOAD, postJson } from './bad-input-wire.js';

/** At least 50 cases; each must get its 4xx (or be handled correctly) and leave the router serving. */
export const BAD_INPUT_CASES: readonly BadInputCase[] = [
  ...JSON_BODY_CASES,
  ...HTTP_BODY_CASES,
  ...REQUEST_LINE_CASES,
];

export function badInputId(c: BadInputCase): string {
  return `bad-input/${c.name}`;
}

/** The expectation in words (docs/reliability.md). */
export function formatExpectation(e: Expectation): string {
  const statuses = e.statuses === undefined ? e.status.join(' or ') : e.statuses.join(', then ');
  const code = e.code === undefined ? '' : ` \`${e.code}\``;
  const early = e.answeredEarly === true ? ', before the body was sent' : '';
  const forwarded =
    e.forwardedContains === undefined
      ? ''
      : `, forwarded as \`${e.forwardedContains.length > 40 ? `${e.forwardedContains.slice(0, 12)}…` : e.forwardedContains}\``;
  return `${statuses}${code}${early}${forwarded}`;
}

export const BAD_INPUT_SCENARIOS: readonly Scenario[] = BAD_INPUT_CASES.map((c) => ({
  id: badInputId(c),
  group: 'bad-input' as const,
  title: c.title,
  expect: `${formatExpectation(c.expect)}; router still serving`,
}));

export const BAD_INPUT_CLI_ID = 'bad-input/cli-process-replay';

export const BAD_INPUT_CLI_SCENARIO: Scenario = {
  id: BAD_INPUT_CLI_ID,
  group: 'bad-input',
  title: 'every case above again, against the built `pd-router` CLI process (its real pino output on stdout)',
  expect: 'the same statuses; the process stays up; no log line at error or fatal, nothing on stderr',
};
