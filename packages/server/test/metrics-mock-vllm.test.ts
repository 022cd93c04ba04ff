import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { waitFor } from './helpers.js';
import { mockVllmPairForFile } from './mock-vllm-pair.js';

// /metrics after real traffic through real mock-vllm workers (P2P NCCL over ZeroMQ): successes,
// an upstream status failure on each leg, a mid-stream break, and a client that leaves.

const pair = mockVllmPairForFile();

async function complete(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const res = await request(`${pair.router.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-model', prompt: 'Hello', max_tokens: 4, ...body }),
  });
  return { status: res.statusCode, text: await res.body.text().catch(() => '') };
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics with real mock-vllm workers', () => {
  it('counts successes, upstream failures per leg and kind, a broken stream and a client abort', async () => {
    for (let i = 0; i < 3; i++) expect((await complete({})).status).toBe(200);

    await pair.prefill.setFaults({ kind: 'status', status: 500, times: 1 });
    expect((await complete({})).status).toBe(502);

    await pair.decode.setFaults({ kind: 'status', status: 500, times: 1 });
    // A decode 5xx is relayed as is (vLLM's own error body), and counted as an upstream status error.
    expect((await complete({})).status).toBe(500);

    await pair.decode.setFaults({ kind: 'reset-after', events: 2, times: 1 });
    const broken = await complete({ stream: true, max_tokens: 8 });
    expect(broken.status).toBe(200);
    expect(broken.text).toContain('PD_ERR_STREAM_BROKEN');

    // A client that leaves during a slow prefill.
    await pair.prefill.setFaults({ kind: 'slow-headers', delayMs: 5_000, times: 1 });
    const ac = new AbortController();
    const left = request(`${pair.router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-model', prompt: 'bye', max_tokens: 4 }),
      signal: ac.signal,
    }).catch(() => 'aborted');
    const before = pair.prefill.received.length;
    await waitFor(() => pair.prefill.received.length > before, 10_000, 'the prefill to receive the request');
    ac.abort();
    expect(await left).toBe('aborted');

    const p = pair.prefill.url;
    const d = pair.decode.url;
    // The abort is counted when the router sees the disconnect: poll the scrape until it shows.
    let text = '';
    const deadline = Date.now() + 10_000;
    for (;;) {
      text = await (await request(`${pair.router.url}/metrics`)).body.text();
      if (sample(text, 'pd_router_client_aborts_total{phase="prefill"}') === 1) break;
      if (Date.now() > deadline) throw new Error(`the client abort was not counted:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(sample(text, 'pd_router_requests_total{route="/v1/completions",status="200"}')).toBe(4);
    expect(sample(text, 'pd_router_requests_total{route="/v1/completions",status="502"}')).toBe(1);
    expect(sample(text, 'pd_router_requests_total{route="/v1/completions",status="500"}')).toBe(1);
    expect(sample(text, 'pd_router_requests_total{route="/v1/completions",status="499"}')).toBe(1);
    expect(sample(text, `pd_router_upstream_errors_total{role="prefill",worker="${p}",kind="status"}`)).toBe(
      1,
    );
    expect(sample(text, `pd_router_upstream_errors_total{role="decode",worker="${d}",kind="status"}`)).toBe(
      1,
    );
    expect(
      sample(text, `pd_router_upstream_errors_total{role="decode",worker="${d}",kind="stream_broken"}`),
    ).toBe(1);
    // Prefill timings count the successful prefills only: 3 ok + the decode-500 + the broken stream.
    expect(sample(text, `pd_router_prefill_duration_seconds_count{worker="${p}"}`)).toBe(5);
    expect(sample(text, 'pd_router_request_duration_seconds_count{route="/v1/completions"}')).toBe(7);
    expect(sample(text, `pd_router_worker_in_flight{role="prefill",worker="${p}"}`)).toBe(0);
    expect(sample(text, `pd_router_worker_in_flight{role="decode",worker="${d}"}`)).toBe(0);
    expect(sample(text, `pd_router_worker_healthy{role="decode",worker="${d}"}`)).toBe(1);
  });
});
