import { describe, expect, it } from 'vitest';
import { formatLabelSelector, parseLabelRequirement } from './label-selector.js';
import { type PodLike, type PodSelection, podVerdict } from './pod-worker.js';

function labels(...items: string[]) {
  return items.map((text) => {
    const parsed = parseLabelRequirement(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  });
}

const SELECTION: PodSelection = {
  selector: labels('app=vllm'),
  prefillSelector: labels('role=prefill'),
  decodeSelector: labels('role=decode'),
  port: 8000,
};

function pod(overrides: {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ip?: string;
  ready?: boolean;
  phase?: string;
  deleting?: boolean;
}): PodLike {
  return {
    metadata: {
      uid: 'u1',
      name: 'p1',
      namespace: 'llm',
      labels: overrides.labels ?? { app: 'vllm', role: 'decode' },
      annotations: overrides.annotations ?? { 'pd-router.io/kv-port': '14580' },
      ...(overrides.deleting === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    status: {
      ...(overrides.ip === '' ? {} : { podIP: overrides.ip ?? '10.1.2.3' }),
      phase: overrides.phase ?? 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: overrides.ready === false ? 'False' : 'True' },
      ],
    },
  };
}

describe('label selectors', () => {
  it('parse key=value (and k==v) with Kubernetes syntax', () => {
    expect(labels('app.kubernetes.io/component=prefill', 'tier==x', 'empty=')).toEqual([
      { key: 'app.kubernetes.io/component', value: 'prefill' },
      { key: 'tier', value: 'x' },
      { key: 'empty', value: '' },
    ]);
    expect(formatLabelSelector(labels('a=b', 'c=d'))).toBe('a=b,c=d');
    for (const bad of ['app', '=x', 'a b=c', 'a=b c', 'a=-x-'])
      expect(parseLabelRequirement(bad).ok, bad).toBe(false);
  });
});

describe('podVerdict', () => {
  it('turns a ready pod into a worker of the pool its labels name', () => {
    const verdict = podVerdict(pod({}), SELECTION);
    expect(verdict).toMatchObject({
      kind: 'ready',
      role: 'decode',
      spec: 'http://10.1.2.3:8000:zmq://10.1.2.3:14580',
      address: { url: 'http://10.1.2.3:8000', zmq: { text: '10.1.2.3:14580' } },
    });
    // Matching both role selectors: prefill, as vllm-router.
    const both = { ...SELECTION, decodeSelector: labels('app=vllm') };
    expect(podVerdict(pod({ labels: { app: 'vllm', role: 'prefill' } }), both)).toMatchObject({
      role: 'prefill',
    });
  });

  it('reads the ZMQ address and HTTP port annotations', () => {
    expect(
      podVerdict(
        pod({
          annotations: { 'pd-router.io/zmq-address': '10.9.9.9:21001', 'pd-router.io/http-port': '8200' },
        }),
        SELECTION,
      ),
    ).toMatchObject({ kind: 'ready', spec: 'http://10.1.2.3:8200:zmq://10.9.9.9:21001' });
    expect(podVerdict(pod({ annotations: {} }), SELECTION)).toMatchObject({
      kind: 'ready',
      address: { zmqFromHttp: true, zmq: { text: '10.1.2.3:8000' } },
    });
    expect(podVerdict(pod({ annotations: { 'pd-router.io/kv-port': 'x' } }), SELECTION)).toEqual({
      kind: 'invalid',
      message: 'annotation pd-router.io/kv-port: "x" is not a port (1-65535)',
    });
    expect(podVerdict(pod({ annotations: { 'pd-router.io/zmq-address': 'a___b:1' } }), SELECTION).kind).toBe(
      'invalid',
    );
  });

  it('keeps unready, terminating and IP-less pods out, and ignores unselected ones', () => {
    expect(podVerdict(pod({ ready: false }), SELECTION).kind).toBe('not_ready');
    expect(podVerdict(pod({ deleting: true }), SELECTION).kind).toBe('not_ready');
    expect(podVerdict(pod({ ip: '' }), SELECTION).kind).toBe('not_ready');
    expect(podVerdict(pod({ phase: 'Pending' }), SELECTION).kind).toBe('not_ready');
    expect(podVerdict(pod({ labels: { app: 'other', role: 'decode' } }), SELECTION).kind).toBe('unselected');
    expect(podVerdict(pod({ labels: { app: 'vllm', role: 'router' } }), SELECTION).kind).toBe('unselected');
  });

  it('an IPv6 pod IP is bracketed; a whole worker under NIXL, refused for P2P NCCL without a ZMQ address', () => {
    const v6 = pod({ ip: 'fd00::12', annotations: {} });
    const nixl = podVerdict(v6, { ...SELECTION, zmqUnused: true });
    expect(nixl).toMatchObject({ kind: 'ready', role: 'decode', spec: 'http://[fd00::12]:8000' });
    expect(nixl.kind === 'ready' && nixl.address.url).toBe('http://[fd00::12]:8000');
    expect(podVerdict(v6, SELECTION).kind).toBe('invalid');
    // With an explicit IPv4 ZMQ address, P2P NCCL takes it.
    const withZmq = pod({ ip: 'fd00::12', annotations: { 'pd-router.io/zmq-address': '10.0.0.5:14580' } });
    expect(podVerdict(withZmq, SELECTION)).toMatchObject({
      kind: 'ready',
      spec: 'http://[fd00::12]:8000:zmq://10.0.0.5:14580',
    });
  });
});
