import { MockVllmError } from './errors.js';
import { type FaultSpec, parseFaultArg } from './fault-spec.js';
import {
  KV_CONNECTORS,
  type KvConnector,
  type KvMode,
  type MockRole,
  type MockVllmOptions,
} from './options.js';
import { PERF_PROFILE_NAMES } from './perf/profile.js';
import { PRESET_NAMES, type PresetName, type TimingOptions } from './presets.js';

export const HELP_TEXT = `mock-vllm: a fake vLLM prefill/decode instance (OpenAI API, SSE, P2P NCCL, NIXL or Mooncake KV hand-off over ZeroMQ)

Usage: mock-vllm [options]

  --role prefill|decode|both   instance role; prefill/decode do the KV hand-off        (default: both)
  --host H                     interface for HTTP and KV sockets                        (default: 127.0.0.1)
  --port N                     HTTP port, 0 = pick a free one                           (default: 0)
  --kv-port N                  KV port (P2P NCCL PULL / NIXL, Mooncake side channel), 0 = free (default: 0)
  --advertise-host H           host written into urls, KV address and registration      (default: --host)
  --model NAME                 served model name                                        (default: mock-model)
  --strict-model               404 for requests naming another model                    (default: off)
  --api-key KEY                require "Authorization: Bearer KEY" on /v1 routes        (default: none)
  --preset NAME                timing preset: ${PRESET_NAMES.join(' | ')}              (default: instant)
  --ttft-base-ms MS            fixed time to first token                                (default: from preset)
  --ttft-per-token-ms MS       prefill cost per prompt token                            (default: from preset)
  --kv-load-per-token-ms MS    decode KV load cost per prompt token                     (default: from preset)
  --inter-token-ms MS          pause between tokens                                     (default: from preset)
  --max-concurrency N          requests generating at once, 0 = unlimited               (default: from preset)
  --max-queue N                requests waiting for a slot, 0 = unlimited               (default: 0)
  --kv-handoff on|off          take part in the KV hand-off (off: plain server)         (default: on, off for both)
  --kv-wait-timeout-ms MS      how long a decode waits for its KV                       (default: 30000)
  --kv-mode error|hang         when KV never arrives: error answer, or hang (PUT mode)  (default: error, hang for mooncake)
  --kv-connector p2p-nccl|nixl|mooncake  KV connector to emulate (vllm-router defaults to nixl) (default: p2p-nccl)
  --nixl-side-channel-host H   NIXL: remote_host a prefill answers (VLLM_NIXL_SIDE_CHANNEL_HOST) (default: localhost)
  --nixl-side-channel-port N   NIXL: remote_port a prefill answers                       (default: the KV port)
  --nixl-block-ttl-ms MS       NIXL: how long unread blocks are held (abort timeout)     (default: 480000)
  --nixl-read-timeout-ms MS    NIXL: how long a decode waits for a side-channel read     (default: 5000)
  --nixl-engine-id ID          NIXL: this instance's remote_engine_id; Mooncake: rank 0's (default: random uuid4)
  --mooncake-bootstrap-port N  Mooncake prefill: bootstrap server port (GET /query), 0 = free (default: 0)
  --mooncake-dp-size N         Mooncake: data-parallel ranks (X-data-parallel-rank 0..N-1) (default: 1)
  --mooncake-engine-id ID      Mooncake: engine id of the next DP rank (repeatable)      (default: ID, ID_dp1 ...)
  --mooncake-abort-timeout-ms MS  Mooncake: VLLM_MOONCAKE_ABORT_REQUEST_TIMEOUT           (default: 480000)
  --request-id-randomization   emulate vLLM >= #27987 random id suffixes (D never matches) (default: off)
  --default-max-tokens N       tokens when a request sets no limit                      (default: 16)
  --max-model-len N            context window (prompt + max tokens)                     (default: 32768)
  --model-profile NAME         performance model: ${PERF_PROFILE_NAMES.join(' | ')} (prefix cache, batching, queueing; see docs/routing.md) (default: none)
  --time-scale X               performance model: run X times faster than real time     (default: 1)
  --kv-cache-tokens N          performance model: KV cache size in tokens               (default: from the profile)
  --fixtures DIR               conformance mode: check requests against golden captures (default: off)
  --proxy-address H:P          register with a P2P NCCL proxy's ZMQ ROUTER              (default: none)
  --register-interval-ms MS    registration ping interval                               (default: 3000)
  --fault SPEC                 start with a fault (repeatable), e.g. status=503,times=2  hang
                               slow-headers=500  reset-after=3  malformed-sse  stall=2000,after=1
                               refuse=1500  refuse,mode=destroy,times=1  kv-never-arrives
                               nixl-no-params  nixl-bad-params  nixl-refuse-reads,times=1
                               mooncake-bootstrap-down,times=3  mooncake-bootstrap-down,mode=empty
                               body=42  body,status=502,body=<html>bad gateway</html> (body= last)
  --help                       print this help

Prints one line when listening: "mock-vllm role=R url=http://H:P kv=H:KVP model=M" (a Mooncake prefill
adds " bootstrap=H:BP"). SIGTERM/SIGINT close cleanly.
Runtime faults: POST /_mock/faults (JSON), inspection: GET /_mock/received, /_mock/verdicts, /_mock/state.`;

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly options: MockVllmOptions };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const TIMING_FLAGS: Readonly<Record<string, keyof TimingOptions>> = {
  '--ttft-base-ms': 'ttftBaseMs',
  '--ttft-per-token-ms': 'ttftPerPromptTokenMs',
  '--kv-load-per-token-ms': 'kvLoadPerPromptTokenMs',
  '--inter-token-ms': 'interTokenMs',
  '--max-concurrency': 'maxConcurrency',
  '--max-queue': 'maxQueue',
};

function invalid(message: string): never {
  throw new MockVllmError('PD_ERR_MOCK_OPTION_INVALID', message);
}

function num(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) invalid(`${flag}: not a number: "${raw}"`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(raw)) invalid(`${flag}: must be one of ${allowed.join(', ')}`);
  return raw as T;
}

/**
 * Parses the CLI's argv (without node and the script) into options; `--flag value` and `--flag=value`.
 * Throws `PD_ERR_MOCK_OPTION_INVALID` for unknown flags or bad values.
 *
 * @example
 * parseCliArgs(['--role', 'decode', '--kv-wait-timeout-ms=500'])
 */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  const o: Mutable<MockVllmOptions> = {};
  const timing: Partial<Mutable<TimingOptions>> = {};
  const faults: FaultSpec[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq !== -1 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq !== -1 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) invalid(`${flag}: missing value`);
      i += 1;
      return next;
    };
    const timingKey = TIMING_FLAGS[flag];
    if (timingKey !== undefined) {
      timing[timingKey] = num(flag, value());
      continue;
    }
    switch (flag) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--role':
        o.role = oneOf<MockRole>(flag, value(), ['prefill', 'decode', 'both']);
        break;
      case '--host':
        o.host = value();
        break;
      case '--port':
        o.port = num(flag, value());
        break;
      case '--kv-port':
        o.kvPort = num(flag, value());
        break;
      case '--advertise-host':
        o.advertiseHost = value();
        break;
      case '--model':
        o.model = value();
        break;
      case '--strict-model':
        o.strictModel = true;
        break;
      case '--api-key':
        o.apiKey = value();
        break;
      case '--preset':
        o.preset = oneOf<PresetName>(flag, value(), PRESET_NAMES);
        break;
      case '--kv-handoff':
        o.kvHandoff = oneOf(flag, value(), ['on', 'off']) === 'on';
        break;
      case '--kv-wait-timeout-ms':
        o.kvWaitTimeoutMs = num(flag, value());
        break;
      case '--kv-mode':
        o.kvMode = oneOf<KvMode>(flag, value(), ['error', 'hang']);
        break;
      case '--kv-connector':
        o.kvConnector = oneOf<KvConnector>(flag, value(), KV_CONNECTORS);
        break;
      case '--nixl-side-channel-host':
        o.nixlSideChannelHost = value();
        break;
      case '--nixl-side-channel-port':
        o.nixlSideChannelPort = num(flag, value());
        break;
      case '--nixl-block-ttl-ms':
        o.nixlBlockTtlMs = num(flag, value());
        break;
      case '--nixl-read-timeout-ms':
        o.nixlReadTimeoutMs = num(flag, value());
        break;
      case '--nixl-engine-id':
        o.nixlEngineId = value();
        break;
      case '--mooncake-bootstrap-port':
        o.mooncakeBootstrapPort = num(flag, value());
        break;
      case '--mooncake-dp-size':
        o.mooncakeDpSize = num(flag, value());
        break;
      case '--mooncake-engine-id':
        o.mooncakeEngineIds = [...(o.mooncakeEngineIds ?? []), value()];
        break;
      case '--mooncake-abort-timeout-ms':
        o.mooncakeAbortTimeoutMs = num(flag, value());
        break;
      case '--request-id-randomization':
        o.requestIdRandomization = true;
        break;
      case '--default-max-tokens':
        o.defaultMaxTokens = num(flag, value());
        break;
      case '--max-model-len':
        o.maxModelLen = num(flag, value());
        break;
      case '--model-profile':
        o.modelProfile = oneOf(flag, value(), PERF_PROFILE_NAMES);
        break;
      case '--time-scale':
        o.timeScale = num(flag, value());
        break;
      case '--kv-cache-tokens':
        o.kvCacheTokens = num(flag, value());
        break;
      case '--fixtures':
        o.fixtures = value();
        break;
      case '--proxy-address':
        o.proxyAddress = value();
        break;
      case '--register-interval-ms':
        o.registerIntervalMs = num(flag, value());
        break;
      case '--fault':
        faults.push(parseFaultArg(value()));
        break;
      default:
        invalid(`unknown option "${arg}" (see --help)`);
    }
  }
  if (Object.keys(timing).length > 0) o.timing = timing;
  if (faults.length > 0) o.faults = faults;
  return { kind: 'run', options: o };
}
