import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakePod {
  readonly uid: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly ip?: string;
  readonly ready: boolean;
  readonly terminating?: boolean;
}

interface Event {
  readonly rv: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly pod: Record<string, unknown>;
}

/**
 * An emulated Kubernetes API server, just enough for pod discovery: `GET .../pods` (a PodList
 * with a resourceVersion, filtered by `labelSelector`) and `?watch=true` (JSON lines of
 * ADDED/MODIFIED/DELETED events, replaying those after the given resourceVersion, `410 Gone` as an
 * ERROR event when it is older than the retained history). On 127.0.0.1, no auth checked.
 */
export class FakeKubeApi {
  readonly requests: { readonly path: string; readonly query: URLSearchParams }[] = [];
  readonly #pods = new Map<string, Record<string, unknown>>();
  readonly #events: Event[] = [];
  readonly #watchers = new Set<{ res: ServerResponse; selector: string | null }>();
  readonly #server: Server;
  #rv = 100;
  /** Events at or below this resourceVersion are gone (a watch from before gets 410). */
  #compactedTo = 0;
  url = '';

  constructor(readonly namespace: string) {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig file pointing at this server. */
  kubeconfig(): string {
    const file = join(tmpdir(), `pd-router-kubeconfig-${process.pid}-${Date.now()}.yaml`);
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        // client-node refuses plain HTTP unless TLS verification is explicitly off.
        `- name: fake\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
        'users:',
        '- name: tester\n  user:\n    token: test-token',
        'contexts:',
        '- name: fake\n  context:\n    cluster: fake\n    user: tester',
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Creates or updates a pod (ADDED / MODIFIED). */
  set(pod: FakePod): void {
    const type = this.#pods.has(pod.uid) ? 'MODIFIED' : 'ADDED';
    this.#rv += 1;
    const object = this.#object(pod, this.#rv);
    this.#pods.set(pod.uid, object);
    this.#publish({ rv: this.#rv, type, pod: object });
  }

  delete(uid: string): void {
    const object = this.#pods.get(uid);
    if (object === undefined) return;
    this.#pods.delete(uid);
    this.#rv += 1;
    this.#publish({
      rv: this.#rv,
      type: 'DELETED',
      pod: { ...object, metadata: { ...(object['metadata'] as object), resourceVersion: String(this.#rv) } },
    });
  }

  /** Cuts every open watch connection (an API server restart, a network blip). */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
  }

  /** Forgets the event history: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.#compactedTo = this.#rv;
    this.#events.length = 0;
  }

  get watchCount(): number {
    return this.#watchers.size;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #object(pod: FakePod, rv: number): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        uid: pod.uid,
        name: pod.name,
        namespace: this.namespace,
        resourceVersion: String(rv),
        labels: pod.labels,
        annotations: pod.annotations ?? {},
        ...(pod.terminating === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
      },
      status: {
        phase: 'Running',
        ...(pod.ip === undefined ? {} : { podIP: pod.ip }),
        conditions: [{ type: 'Ready', status: pod.ready ? 'True' : 'False' }],
      },
    };
  }

  #publish(event: Event): void {
    this.#events.push(event);
    for (const w of this.#watchers) this.#send(w.res, w.selector, event);
  }

  #send(res: ServerResponse, selector: string | null, event: Event): void {
    if (!matches(event.pod, selector)) return;
    res.write(`${JSON.stringify({ type: event.type, object: event.pod })}\n`);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ path: url.pathname, query: url.searchParams });
    if (req.method !== 'GET' || url.pathname !== `/api/v1/namespaces/${this.namespace}/pods`) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
      return;
    }
    const selector = url.searchParams.get('labelSelector');
    if (url.searchParams.get('watch') !== 'true') {
      const items = [...this.#pods.values()].filter((pod) => matches(pod, selector));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: { resourceVersion: String(this.#rv) },
          items,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The API server answers a watch at once and then streams events.
    res.flushHeaders();
    const from = Number(url.searchParams.get('resourceVersion') ?? this.#rv);
    if (from < this.#compactedTo) {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } })}\n`,
      );
      return;
    }
    const watcher = { res, selector };
    this.#watchers.add(watcher);
    res.on('close', () => this.#watchers.delete(watcher));
    for (const event of this.#events) if (event.rv > from) this.#send(res, selector, event);
  }
}

function matches(pod: Record<string, unknown>, selector: string | null): boolean {
  if (selector === null || selector === '') return true;
  const labels = ((pod['metadata'] as { labels?: Record<string, string> }).labels ?? {}) as Record<
    string,
    string
  >;
  return selector.split(',').every((pair) => {
    const [key, value] = pair.split('=');
    return key !== undefined && labels[key] === value;
  });
}
