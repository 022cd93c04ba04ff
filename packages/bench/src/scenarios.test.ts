import { describe, expect, it } from 'vitest';
import {
  buildScenarios,
  DEFAULT_SCENARIOS,
  longPrompt,
  pointLabel,
  SCENARIO_NAMES,
  SEED_CHAT_BODY,
} from './scenarios.js';

describe('scenarios', () => {
  it('match the issue: concurrencies, streaming, body sizes', () => {
    const byName = Object.fromEntries(
      buildScenarios([...DEFAULT_SCENARIOS], { quick: false }).map((s) => [s.name, s]),
    );
    expect(byName['chat-short']!.points.map(pointLabel)).toEqual(['c=1', 'c=16', 'c=64', 'c=256']);
    expect(byName['chat-short']!.request.stream).toBe(false);
    expect(byName['stream-256']!.points.map(pointLabel)).toEqual(['c=64', 'c=512']);
    expect(byName['stream-256']!.request.stream).toBe(true);
    expect(JSON.parse(byName['stream-256']!.request.body.toString())).toMatchObject({
      max_tokens: 256,
      stream: true,
    });
    expect(byName['prompt-100k']!.request.body.length).toBeGreaterThanOrEqual(100 * 1024);
    expect(byName['prompt-100k']!.request.body.length).toBeLessThan(110 * 1024);
    expect(byName['streams-1000']!.points.map(pointLabel)).toEqual(['c=1000']);
    expect(byName['streams-1000']!.timing).toMatchObject({ interTokenMs: 100 });
    expect(byName['streams-1000']!.warmup).toBe(false);
    expect(byName['chat-short']!.warmup).toBeUndefined();
  });

  it('send valid JSON bodies; the short chat is the reference seed body', () => {
    for (const s of buildScenarios(['all'], { quick: false })) {
      expect(() => JSON.parse(s.request.body.toString('utf8'))).not.toThrow();
      expect(s.request.path).toBe('/v1/chat/completions');
    }
    const chat = buildScenarios(['chat-short'], { quick: false })[0]!;
    expect(chat.request.body.toString('latin1')).toBe(SEED_CHAT_BODY);
    expect(SEED_CHAT_BODY).toHaveLength(165);
  });

  it('all covers every scenario; overrides replace load levels', () => {
    expect(buildScenarios(['all'], { quick: true }).map((s) => s.name)).toEqual(SCENARIO_NAMES);
    const [c] = buildScenarios(['stream-256'], { quick: false, concurrency: [2, 4] });
    expect(c!.points.map(pointLabel)).toEqual(['c=2', 'c=4']);
    const [r] = buildScenarios(['chat-short'], { quick: false, rates: [250] });
    expect(r!.points).toEqual([{ mode: 'open', ratePerS: 250, maxInFlight: 4_096 }]);
    expect(buildScenarios(['chat-rate'], { quick: false })[0]!.points.map(pointLabel)).toEqual([
      'r=500/s',
      'r=1000/s',
      'r=2000/s',
    ]);
  });

  it('rejects an unknown scenario', () => {
    expect(() => buildScenarios(['nope'], { quick: false })).toThrow(
      expect.objectContaining({ code: 'PD_ERR_BENCH_USAGE' }),
    );
  });

  it('longPrompt is deterministic and has non-ASCII text', () => {
    expect(longPrompt(1_000)).toBe(longPrompt(1_000));
    expect(longPrompt(1_000)).toMatch(/[^ -~]/);
  });
});
