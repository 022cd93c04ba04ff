import { describe, expect, it } from 'vitest';
import type { Config } from '../src/config/types.js';
import type { PairChoice, PairSelector, RoutingRequest, WorkerView } from '../src/policies/types.js';
import {
  e2eKit,
  gate,
  heldStream,
  jsonAnswer,
  postStatus,
  type Router,
  SEED_COMPLETIONS_BODY,
  sleep,
  waitFor,
} from './helpers.js';

const kit = e2eKit();

/** Picks the first of each pool; `releases` records every worker the registry releases. */
class RecordingSelector implements PairSelector {
  readonly picks: PairChoice[] = [];
  readonly releases: string[] = [];
  select(prefills: readonly WorkerView[], decodes: readonly WorkerView[], _request: RoutingRequest) {
    const prefill = prefills[0];
    const decode = decodes[0];
    if (prefill === undefined) return { empty: 'prefill' as const };
    if (decode === undefined) return { empty: 'decode' as const };
    const choice = { prefill, decode };
    this.picks.push(choice);
    return choice;
  }
}

async function setup(budgets: Partial<Config> = {}) {
  const selector = new RecordingSelector();
  const pair = await kit.pair(
    { prefillTimeoutMs: 300, decodeTtftTimeoutMs: 300, streamIdleTimeoutMs: 300, ...budgets },
    { deps: { selector } },
  );
  const registry = pair.router.app.pd.registry;
  const release = registry.release.bind(registry);
  registry.release = (worker) => {
    selector.releases.push(worker.role);
    release(worker);
  };
  return { ...pair, selector };
}

function inFlight(router: Router): Record<string, number> {
  return Object.fromEntries(router.app.pd.registry.list().map((w) => [w.role, w.inFlight]));
}

describe('in-flight accounting', () => {
  it('counts from the pick; the prefill is released after its leg, the decode when its stream ends', async () => {
    // The stream is held open on purpose: no idle budget may end it first, however loaded the machine.
    const { d, router } = await setup({ streamIdleTimeoutMs: 30_000 });
    const held = gate();
    d.handler = heldStream('data: 1\n\n', held, 'data: [DONE]\n\n');
    const pending = postStatus(router, '{"prompt": "x", "stream": true}');
    await waitFor(() => d.received.length === 1, 15_000, 'the decode');
    await sleep(50);
    expect(inFlight(router)).toEqual({ prefill: 0, decode: 1 });
    held.open();
    expect(await pending).toBe(200);
    await waitFor(() => inFlight(router).decode === 0, 15_000, 'the decode release');
  });

  it('releases each worker exactly once, whatever the outcome', async () => {
    const { p, d, router, selector } = await setup();
    const outcomes: [string, () => void][] = [
      ['ok', () => {}],
      [
        'prefill 500',
        () => {
          p.handler = jsonAnswer({}, 500);
        },
      ],
      [
        'prefill hang',
        () => {
          p.handler = () => {};
        },
      ],
      [
        'decode hang',
        () => {
          p.handler = jsonAnswer({});
          d.handler = () => {};
        },
      ],
      [
        'decode reset',
        () => {
          d.handler = (_q, r) => r.socket?.destroy();
        },
      ],
      [
        'stream idle',
        () => {
          d.handler = (_q, r) => {
            r.writeHead(200, { 'content-type': 'text/event-stream' });
            r.write('data: 1\n\n');
          };
        },
      ],
      ['bad json', () => {}],
    ];
    for (const [name, arrange] of outcomes) {
      arrange();
      const before = selector.releases.length;
      const picksBefore = selector.picks.length;
      await postStatus(router, name === 'bad json' ? '{' : SEED_COMPLETIONS_BODY);
      await waitFor(
        () => inFlight(router).decode === 0 && inFlight(router).prefill === 0,
        15_000,
        `${name}: release`,
      );
      const picked = selector.picks.length - picksBefore;
      expect(selector.releases.slice(before).sort(), name).toEqual(picked === 1 ? ['decode', 'prefill'] : []);
    }
  });
});
