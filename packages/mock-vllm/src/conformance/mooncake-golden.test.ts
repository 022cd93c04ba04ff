import { describe, expect, test } from 'vitest';
import { checkExchange } from './check-exchange.js';
import { createConformanceChecker } from './checker.js';
import { bytesToLatin1, latin1ToBytes } from './http-message.js';
import {
  editHeaders,
  failedChecks,
  findCase,
  MOONCAKE_DIR,
  mooncakeCases,
  randomId,
  requestFor,
  setHeader,
} from './test-support.js';
import type { RawRequest } from './types.js';

const checker = createConformanceChecker(MOONCAKE_DIR);
/** The run's bootstrap server, in place of the capture's 127.0.0.1:26001. */
const RUN_BOOTSTRAP = 'http://127.0.0.1:41999';

function replaceInBody(req: RawRequest, from: string, to: string): RawRequest {
  return { ...req, body: latin1ToBytes(bytesToLatin1(req.body).split(from).join(to)) };
}

describe('Mooncake captures: loading', () => {
  test('reads every case as a Mooncake case, each a conformance target', () => {
    expect(mooncakeCases).toHaveLength(24);
    expect(mooncakeCases.every((c) => c.kind === 'mooncake' && c.target)).toBe(true);
  });

  test("pairs and DP ranks come from the capture's rounds; engine ids from its /query answer", () => {
    const dp = findCase(mooncakeCases, '08-dp2-rank-cycle-chat');
    expect(dp.rounds.map((r) => r.pair)).toEqual([
      { prefill: 0, decode: 0, rank: 0 },
      { prefill: 0, decode: 0, rank: 1 },
      { prefill: 0, decode: 0, rank: 0 },
      { prefill: 0, decode: 0, rank: 1 },
    ]);
    expect(dp.topology.mooncake?.prefills[0]).toMatchObject({
      portArg: 26001,
      addr: 'http://127.0.0.1:26001',
      engineIds: ['engine-P1-dp0', 'engine-P1-dp1'],
    });
    const rr = findCase(mooncakeCases, '08-round-robin-2p2d');
    expect(rr.rounds.map((r) => [r.pair.prefill, r.pair.decode])).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
      [1, 1],
    ]);
    expect(
      findCase(mooncakeCases, '09-bootstrap-port-default-chat').topology.mooncake?.prefills[0],
    ).toMatchObject({ portArg: null, addr: 'http://127.0.0.1:8998' });
  });

  test("a decode body's bootstrap address is a placeholder; the rest is the captured bytes", () => {
    const decode = findCase(mooncakeCases, '01-seed-chat').rounds[0]!.decode;
    expect(bytesToLatin1(decode.body)).toContain(
      '"kv_transfer_params": {"do_remote_decode": false, "do_remote_prefill": true, "remote_bootstrap_addr": "{bootstrap}", "remote_engine_id": "engine-P1", "transfer_id": "xfer-{uuid}"}}',
    );
  });
});

describe('Mooncake captures: byte-for-byte checks', () => {
  const c = findCase(mooncakeCases, '01-seed-chat');
  const round = c.rounds[0]!;

  test("the run's bootstrap address passes where the router was told to use it, and only there", () => {
    const id = randomId('mooncake');
    const decode = replaceInBody(requestFor(round.decode, id), 'http://127.0.0.1:26001', RUN_BOOTSTRAP);
    expect(checker.check('decode', decode, { bootstrapAddr: RUN_BOOTSTRAP }).ok).toBe(true);
    expect(checker.check('decode', decode).ok).toBe(true);
    const other = checker.check('decode', decode, { bootstrapAddr: 'http://127.0.0.1:42000' });
    expect(other.ok).toBe(false);
    expect(failedChecks(other)).toContain('body');
  });

  test("Content-Length must be the length of the body with the run's bootstrap address", () => {
    const dflt = findCase(mooncakeCases, '09-bootstrap-port-default-chat').rounds[0]!.decode;
    const moved = replaceInBody(
      requestFor(dflt, randomId('mooncake')),
      'http://127.0.0.1:8998',
      RUN_BOOTSTRAP,
    );
    const context = { case: '09-bootstrap-port-default-chat', bootstrapAddr: RUN_BOOTSTRAP };
    expect(failedChecks(checker.check('decode', moved, context))).toEqual(['header:content-length']);
    const fixed = setHeader(moved, 'Content-Length', String(moved.body.length));
    expect(checker.check('decode', fixed, context).ok).toBe(true);
  });

  test('32-hex ids pass as uuid4s do; the transfer_id must be xfer- and the same id', () => {
    const hex = requestFor(round.prefill, randomId('p2p-nccl'));
    expect(checker.check('prefill', setHeader(hex, 'Content-Length', String(hex.body.length))).ok).toBe(true);
    const id = randomId('mooncake');
    const prefill = requestFor(round.prefill, id);
    const wrong = replaceInBody(prefill, `xfer-${id}`, `xfer-${randomId('mooncake')}`);
    expect(checker.check('prefill', wrong).ok).toBe(false);
  });

  test('a wrong engine id, a missing rank header or a rank header on the decode fails', () => {
    const id = randomId('mooncake');
    const decode = requestFor(round.decode, id);
    expect(checker.check('decode', replaceInBody(decode, '"engine-P1"', '"engine-P2"')).ok).toBe(false);
    const noRank = editHeaders(requestFor(round.prefill, id), (pairs) =>
      pairs.filter(([k]) => k.toLowerCase() !== 'x-data-parallel-rank'),
    );
    expect(failedChecks(checker.check('prefill', noRank))).toContain('header-names');
    expect(
      failedChecks(
        checker.check('prefill', setHeader(requestFor(round.prefill, id), 'X-data-parallel-rank', '1'), {
          case: '01-seed-chat',
        }),
      ),
    ).toContain('header:x-data-parallel-rank');
    const rankOnDecode = editHeaders(decode, (pairs) => [...pairs, ['X-data-parallel-rank', '0']]);
    expect(failedChecks(checker.check('decode', rankOnDecode))).toContain('header-names');
  });

  test('an exchange passes when the legs went together, and fails when the decode waited for the prefill', () => {
    const id = randomId('mooncake');
    const prefill = requestFor(round.prefill, id);
    const decode = requestFor(round.decode, id);
    const together = checkExchange(
      c,
      prefill,
      decode,
      { decodeReceivedAt: 11, prefillCompletedAt: 500 },
      {
        routedTo: { prefill: 0, decode: 0, rank: 0 },
      },
    );
    expect(together.diff).toBeUndefined();
    expect(together.checks).toEqual([
      { name: 'same-request-id', ok: true },
      { name: 'legs-together', ok: true },
      { name: 'round-robin-pair', ok: true },
    ]);
    const sequential = checkExchange(c, prefill, decode, { prefillCompletedAt: 10, decodeReceivedAt: 11 });
    expect(sequential.ok).toBe(false);
    expect(sequential.diff).toMatch(/^legs-together: decode arrived at 11, after the prefill response/);
  });

  test("the pair check names the DP rank the capture's round chose", () => {
    const dp = findCase(mooncakeCases, '08-dp2-rank-cycle-chat');
    const r2 = dp.rounds[1]!;
    const id = randomId('mooncake');
    const order = { decodeReceivedAt: 11, prefillCompletedAt: 500 };
    const right = checkExchange(dp, requestFor(r2.prefill, id), requestFor(r2.decode, id), order, {
      index: 2,
      routedTo: { prefill: 0, decode: 0, rank: 1 },
    });
    expect(right.ok).toBe(true);
    const wrong = checkExchange(dp, requestFor(r2.prefill, id), requestFor(r2.decode, id), order, {
      index: 2,
      routedTo: { prefill: 0, decode: 0, rank: 0 },
    });
    expect(wrong.diff).toContain('round-robin-pair: routed to P1 rank 0/D1, capture chose P1 rank 1/D1');
  });
});
