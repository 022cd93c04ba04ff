import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { completionBody, postCompletion } from '../src/harness/client.js';
import { post } from '../src/harness/raw-http.js';
import { PeakSampler } from '../src/harness/router-process.js';
import { ResultRecorder } from '../src/report/recorder.js';
import { SLOW_READER, SLOW_READER_ID } from '../src/scenarios/clients.js';
import { cliPairForFile } from './cli-pair.js';

const MIB = 1_048_576;
const recorder = new ResultRecorder('slow-reader');
const file = cliPairForFile(
  recorder,
  // Room for the long generation; no KV wait or timing delays: the decode can go as fast as it is read.
  [
    // The client reads every 100 ms: the router must not take it for a stalled reader.
    ...['--stream-idle-timeout-ms', '10000'],
  ],
  { maxModelLen: 2_000_000 },
);

describe('a slow reader of a fast stream', () => {
  it(SLOW_READER_ID, async () => {
    // Warm up (pools, JIT) so the baseline is the router's steady state, not its cold start.
    for (let i = 0; i < 20; i++)
      expect((await postCompletion(file.pair.router.url, completionBody(true, 50))).status).toBe(200);
    const baseline = file.pair.router.rssBytes();
    const sampler = new PeakSampler(() => file.pair.router.rssBytes());
    const decode = file.pair.decode;
    if (decode === undefined) throw new Error('decode');
    await decode.reset();

    const socket: Socket = connect({ host: '127.0.0.1', port: file.pair.router.port });
    socket.on('error', () => undefined);
    // Paused: node stops reading the kernel once its small buffer is full; we read at a trickle.
    socket.pause();
    socket.write(post('/v1/completions', completionBody(true, SLOW_READER.tokens)));
    let read = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SLOW_READER.durationMs) {
      await new Promise((r) => setTimeout(r, SLOW_READER.tickMs));
      let budget = SLOW_READER.readBytesPerTick;
      while (budget > 0) {
        const chunk = socket.read(Math.min(budget, socket.readableLength)) as Buffer | null;
        if (chunk === null || chunk.length === 0) break;
        read += chunk.length;
        budget -= chunk.length;
      }
    }
    const peak = sampler.stop();
    const entry = decode.received[0];
    // Still generating: the decode was held back by the client's pace, not run to completion.
    expect(entry?.outcome).toBeUndefined();
    expect(read).toBeGreaterThan(0);
    socket.destroy();
    const growth = peak - baseline;
    expect(
      growth,
      `RSS ${Math.round(baseline / MIB)} MiB -> peak ${Math.round(peak / MIB)} MiB`,
    ).toBeLessThan(SLOW_READER.rssGrowthBoundBytes);
    // The abandoned stream's decode is cut when the client goes.
    const deadline = performance.now() + 15_000;
    while (entry?.outcome === undefined && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(entry?.outcome).toBe('aborted');
    const streamBytes = SLOW_READER.tokens * 230;
    recorder.record({
      id: SLOW_READER_ID,
      observed: `router RSS ${Math.round(baseline / MIB)} MiB → peak ${Math.round(peak / MIB)} MiB (+${(growth / MIB).toFixed(1)} MiB) while the client read ${(read / MIB).toFixed(1)} MiB of a ~${Math.round(streamBytes / MIB)} MiB stream; decode unfinished, aborted when the client left`,
      metrics: {
        rssBaselineMiB: Math.round(baseline / MIB),
        rssPeakMiB: Math.round(peak / MIB),
        clientReadMiB: Number((read / MIB).toFixed(1)),
      },
    });
  }, 60_000);
});
