import { execFile } from 'node:child_process';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { exporterTarget } from '../src/tracing/otel.js';
import {
  e2eKit,
  jsonAnswer,
  REFUSED_URL,
  SEED_COMPLETIONS_BODY,
  type TestConfigOverrides,
  waitFor,
} from './helpers.js';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpGrpcReceiver,
  startOtlpHttpReceiver,
} from './otlp-receiver.js';

const kit = e2eKit();

const CLIENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN_ID = 'b7ad6b7169203331';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;

function tracing(endpoint: string, extra: Partial<NonNullable<TestConfigOverrides['tracing']>> = {}) {
  return {
    tracing: { enabled: true, otlpTracesEndpoint: endpoint, samplingRatio: 1, excludedPaths: [], ...extra },
  };
}

async function receiver(start: () => Promise<OtlpReceiver> = startOtlpHttpReceiver): Promise<OtlpReceiver> {
  const r = await start();
  kit.open.push(r);
  return r;
}

async function post(url: string, headers: Record<string, string> = {}, path = '/v1/completions') {
  const res = await request(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: SEED_COMPLETIONS_BODY,
  });
  return { status: res.statusCode, body: await res.body.text() };
}

function only(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name);
  expect(
    found.map((s) => s.name),
    `exactly one ${name} span in ${spans.map((s) => s.name).join(', ')}`,
  ).toEqual([name]);
  return found[0] as ReceivedSpan;
}

describe('tracing (--enable-trace), end to end with a real OTLP receiver', () => {
  it("continues the client's trace: server span, routing, prefill and decode children, traceparent on both legs; /health excluded", async () => {
    const collector = await receiver();
    const { p, d, router } = await kit.pair(tracing(collector.endpoint, { excludedPaths: ['/health'] }));
    const answer = await post(router.url, { traceparent: CLIENT_TRACEPARENT, tracestate: 'vendor=abc' });
    expect(answer.status).toBe(200);
    expect((await request(`${router.url}/health`)).statusCode).toBe(200);
    expect((await request(`${router.url}/v1/models`)).statusCode).toBeGreaterThan(0);
    // close() flushes the batch: every span is exported by then.
    await router.close();
    await waitFor(() => collector.spans.length >= 4, 15_000, 'spans exported');
    const spans = collector.spans;
    expect(collector.contentTypes.every((t) => t.startsWith('application/x-protobuf'))).toBe(true);

    const server = only(spans, 'POST /v1/completions');
    expect(server.traceId).toBe(CLIENT_TRACE_ID);
    expect(server.parentSpanId).toBe(CLIENT_SPAN_ID);
    expect(server.kind).toBe(2);
    expect(server.serviceName).toBe('pd-router');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.attributes['pd_router.outcome']).toBe('ok');
    expect(server.traceState).toBe('vendor=abc');

    const routing = only(spans, 'routing');
    const prefill = only(spans, 'prefill');
    const decode = only(spans, 'decode');
    for (const child of [routing, prefill, decode]) {
      expect(child.traceId).toBe(CLIENT_TRACE_ID);
      expect(child.parentSpanId).toBe(server.spanId);
    }
    expect(routing.attributes['pd_router.prefill']).toBe(p.url);
    expect(routing.attributes['pd_router.decode']).toBe(d.url);
    expect(prefill.kind).toBe(3);
    expect(prefill.attributes['pd_router.worker']).toBe(p.url);
    expect(decode.attributes['pd_router.worker']).toBe(d.url);
    const requestId = p.received[0]?.headers['x-request-id'];
    expect(prefill.attributes['pd_router.request_id']).toBe(requestId);
    expect(decode.attributes['pd_router.request_id']).toBe(requestId);
    expect(prefill.attributes['http.response.status_code']).toBe(200);
    expect(decode.attributes['http.response.status_code']).toBe(200);
    expect(decode.events.map((e) => e.name)).toContain('first_token');
    expect(Number(decode.attributes['pd_router.ttft_ms'])).toBeGreaterThanOrEqual(0);

    // Each leg carries its own span as the parent, in the client's trace, with the client's tracestate.
    expect(p.received[0]?.headers.traceparent).toBe(`00-${CLIENT_TRACE_ID}-${prefill.spanId}-01`);
    expect(d.received[0]?.headers.traceparent).toBe(`00-${CLIENT_TRACE_ID}-${decode.spanId}-01`);
    expect(p.received[0]?.headers.tracestate).toBe('vendor=abc');
    expect(d.received[0]?.headers.tracestate).toBe('vendor=abc');

    expect(spans.filter((s) => s.attributes['url.path'] === '/health')).toEqual([]);
    expect(only(spans, 'GET /v1/models').traceId).not.toBe(CLIENT_TRACE_ID);
  });

  it('exports OTLP/HTTP JSON when OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json, and starts a new trace without a traceparent', async () => {
    const collector = await receiver();
    const { p, router } = await kit.pair(tracing(`${collector.endpoint}/v1/traces`), {
      deps: { env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' } },
    });
    expect((await post(router.url)).status).toBe(200);
    await router.close();
    await waitFor(() => collector.spans.length >= 3, 15_000, 'spans exported');
    expect(collector.contentTypes.every((t) => t.startsWith('application/json'))).toBe(true);
    const server = only(collector.spans, 'POST /v1/completions');
    expect(server.parentSpanId).toBe('');
    const prefill = only(collector.spans, 'prefill');
    expect(prefill.traceId).toBe(server.traceId);
    expect(p.received[0]?.headers.traceparent).toBe(`00-${server.traceId}-${prefill.spanId}-01`);
  });

  it('exports over OTLP/gRPC for a host:port endpoint (vllm-router form)', async () => {
    const collector = await receiver(startOtlpGrpcReceiver);
    const { router } = await kit.pair(tracing(collector.endpoint));
    expect((await post(router.url, { traceparent: CLIENT_TRACEPARENT })).status).toBe(200);
    await router.close();
    await waitFor(() => collector.spans.length >= 3, 15_000, 'spans exported');
    expect(collector.contentTypes[0]).toMatch(/^application\/grpc/);
    expect(only(collector.spans, 'POST /v1/completions').traceId).toBe(CLIENT_TRACE_ID);
  });

  it('marks a failed prefill leg and the answer as errors, with the error code', async () => {
    const collector = await receiver();
    const { router } = await kit.pair(tracing(collector.endpoint), {
      prefill: jsonAnswer({ error: 'boom' }, 500),
    });
    expect((await post(router.url)).status).toBe(502);
    await router.close();
    await waitFor(() => collector.spans.length >= 3, 15_000, 'spans exported');
    const server = only(collector.spans, 'POST /v1/completions');
    expect(server.statusCode).toBe(2);
    expect(server.attributes['error.type']).toBe('PD_ERR_PREFILL_UPSTREAM_STATUS');
    const prefill = only(collector.spans, 'prefill');
    expect(prefill.statusCode).toBe(2);
    expect(prefill.attributes['http.response.status_code']).toBe(500);
    expect(collector.spans.filter((s) => s.name === 'decode')).toEqual([]);
  });

  it('samples by ratio only new traces: ratio 0 exports nothing without a parent, and follows a sampled parent', async () => {
    const collector = await receiver();
    const { p, router } = await kit.pair(tracing(collector.endpoint, { samplingRatio: 0 }));
    expect((await post(router.url)).status).toBe(200);
    // Unsampled: the legs still carry the trace context, flagged not sampled.
    expect(p.received[0]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect((await post(router.url, { traceparent: CLIENT_TRACEPARENT })).status).toBe(200);
    await router.close();
    await waitFor(() => collector.spans.length >= 4, 15_000, 'spans exported');
    expect(new Set(collector.spans.map((s) => s.traceId))).toEqual(new Set([CLIENT_TRACE_ID]));
  });

  it('keeps serving, and closes promptly, when the collector is down', async () => {
    const { router } = await kit.pair(tracing(REFUSED_URL));
    for (let i = 0; i < 5; i++)
      expect((await post(router.url, { traceparent: CLIENT_TRACEPARENT })).status).toBe(200);
    const t0 = performance.now();
    await router.close();
    // The shutdown's wait for the last export is bounded (3 s), whatever the exporter's retries.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('tracing off (the default)', () => {
  it("forwards no traceparent or tracestate: the legs carry the reference's header set only", async () => {
    const { p, d, router } = await kit.pair();
    expect(
      (await post(router.url, { traceparent: CLIENT_TRACEPARENT, tracestate: 'vendor=abc' })).status,
    ).toBe(200);
    for (const w of [p, d]) {
      expect(w.received[0]?.headers.traceparent).toBeUndefined();
      expect(w.received[0]?.headers.tracestate).toBeUndefined();
    }
  });
});

describe('exporterTarget', () => {
  it('maps host:port to gRPC and URLs to OTLP/HTTP in the protocol the environment names', () => {
    expect(exporterTarget('collector:4317', {})).toEqual({ protocol: 'grpc', url: 'http://collector:4317' });
    expect(exporterTarget('http://c:4318', {})).toEqual({
      protocol: 'http/protobuf',
      url: 'http://c:4318/v1/traces',
    });
    expect(exporterTarget('https://c/otlp/traces', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toEqual({
      protocol: 'http/json',
      url: 'https://c/otlp/traces',
    });
    expect(
      exporterTarget('http://c:4318', {
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }).protocol,
    ).toBe('http/json');
    expect(exporterTarget(undefined, {})).toEqual({ protocol: 'http/protobuf', url: undefined });
    const warnings: string[] = [];
    expect(
      exporterTarget('http://c:4318', { OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, (m) => warnings.push(m))
        .protocol,
    ).toBe('http/protobuf');
    expect(warnings).toHaveLength(1);
  });
});

describe('loading', () => {
  const INDEX = new URL('../dist/index.js', import.meta.url).href;
  /** Builds a router in a fresh process whose module loader reports every OpenTelemetry import. */
  async function loadedOtelModules(flags: readonly string[]): Promise<string[]> {
    const hook = `export async function resolve(s, c, next) { if (s.includes('opentelemetry')) process.stdout.write('LOADED ' + s + '\\n'); return next(s, c); }`;
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { buildServer, loadConfig } = await import(${JSON.stringify(INDEX)});
      const loaded = loadConfig({ argv: ${JSON.stringify([
        ...['--prefill', 'http://127.0.0.1:20003:zmq://127.0.0.1:21001'],
        ...['--decode', 'http://127.0.0.1:20005:zmq://127.0.0.1:22001'],
        ...['--log-level', 'silent'],
      ])}.concat(${JSON.stringify(flags)}), env: {} });
      if (!loaded.ok) throw loaded.error;
      const app = await buildServer(loaded.value);
      await app.close();
      process.stdout.write('BUILT\\n');`;
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        { timeout: 60_000 },
        (error, out, err) => (error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`))),
      ),
    );
    expect(stdout).toContain('BUILT');
    return stdout.split('\n').filter((line) => line.startsWith('LOADED '));
  }

  it('imports no OpenTelemetry module with tracing off, and the SDK with --enable-trace', async () => {
    expect(await loadedOtelModules([])).toEqual([]);
    expect(
      (await loadedOtelModules(['--enable-trace', '--otlp-traces-endpoint', REFUSED_URL])).length,
    ).toBeGreaterThan(3);
  });
});
