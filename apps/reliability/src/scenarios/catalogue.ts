import type { Scenario } from '../report/scenario.js';
import { BAD_INPUT_CLI_SCENARIO, BAD_INPUT_SCENARIOS } from './bad-input.js';
import { BREAKER_SCENARIOS } from './breaker.js';
import { CLIENT_SCENARIOS } from './clients.js';
import { FAULT_BASELINE_SCENARIO, FAULT_SCENARIOS } from './faults.js';
import { NIXL_DECODE_SCENARIOS } from './faults-nixl-decode.js';
import { FUZZ_SCENARIOS } from './fuzz.js';
import { INTAKE_SCENARIOS } from './intake.js';
import { LOAD_SCENARIOS } from './load.js';
import { SECURITY_SCENARIOS } from './security.js';

/** Every scenario of the suite, in the order of docs/reliability.md. */
export const SCENARIOS: readonly Scenario[] = [
  ...FAULT_SCENARIOS,
  FAULT_BASELINE_SCENARIO,
  ...NIXL_DECODE_SCENARIOS,
  ...BREAKER_SCENARIOS,
  ...CLIENT_SCENARIOS,
  ...INTAKE_SCENARIOS,
  ...BAD_INPUT_SCENARIOS,
  BAD_INPUT_CLI_SCENARIO,
  ...LOAD_SCENARIOS,
  ...SECURITY_SCENARIOS,
  ...FUZZ_SCENARIOS,
];
