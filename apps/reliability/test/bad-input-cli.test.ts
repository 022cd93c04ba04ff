import { describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { errorCodeOf } from '../src/harness/http-response-parser.js';
import { rawExchange } from '../src/harness/raw-http.js';
import { ResultRecorder } from '../src/report/recorder.js';
import {
  BAD_INPUT_CASES,
  BAD_INPUT_CLI_ID,
  BAD_INPUT_MAX_PAYLOAD,
  badInputId,
} from '../src/scenarios/bad-input.js';
import { cliPairForFile } from './cli-pair.js';

const recorder = new ResultRecorder('bad-input-cli');
const file = cliPairForFile(recorder, [
  ...['--max-payload-size', String(BAD_INPUT_MAX_PAYLOAD)],
  // Every request logs a line: the replay reads the same pino output production would write.
  ...['--log-level', 'info'],
]);

describe('bad input against the CLI process', () => {
  it(BAD_INPUT_CLI_ID, async () => {
    const mismatches: string[] = [];
    for (const c of BAD_INPUT_CASES) {
      const r = await rawExchange({ port: file.pair.router.port, ...c.send, timeoutMs: 15_000 });
      const first = r.responses.find((x) => x.status >= 200);
      const status = first?.status ?? 0;
      const code = first === undefined ? undefined : errorCodeOf(first.body);
      if (!c.expect.status.includes(status) || (c.expect.code !== undefined && code !== c.expect.code)) {
        mismatches.push(`${badInputId(c)}: ${status} ${code ?? ''}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect((await postCompletion(file.pair.router.url, completionBody(false))).status).toBe(200);
    const crashes = file.pair.router.logs.filter((l) => l.level >= 50);
    expect(crashes).toEqual([]);
    expect(file.pair.router.otherOutput.join('')).toBe('');
    // Every request of the replay that reached a route was logged (the output really was read).
    expect(file.pair.router.logs.length).toBeGreaterThan(BAD_INPUT_CASES.length / 2);
    recorder.record({
      id: BAD_INPUT_CLI_ID,
      observed: `the same statuses for all ${BAD_INPUT_CASES.length}; the process stays up; ${file.pair.router.logs.length} log lines, none at error or fatal, nothing on stderr`,
    });
  }, 120_000);
});
