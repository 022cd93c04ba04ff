/**
 * deploy/: the Kubernetes manifests validated against the Kubernetes API's JSON schemas (as
 * compiled by kubernetes-models from the Kubernetes 1.27 OpenAPI document), their wiring checked
 * (probes, ports, config mount, security), the ConfigMap's config file started with the real
 * CLI, and the Dockerfile linted structurally. Docker itself cannot run here (docs/deployment.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkerUrl } from '@pd-router/core';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { execForm, parseDockerfile, type Stage } from './support/dockerfile.js';
import { REPO_ROOT } from './support/paths.js';
import { Service as ChildService, run } from './support/process.js';

const K8S_DIR = join(REPO_ROOT, 'deploy', 'k8s');
const MODELS = {
  'v1/ConfigMap': (data: unknown) => new ConfigMap(data as ConstructorParameters<typeof ConfigMap>[0]),
  'v1/Service': (data: unknown) => new Service(data as ConstructorParameters<typeof Service>[0]),
  'apps/v1/Deployment': (data: unknown) =>
    new Deployment(data as ConstructorParameters<typeof Deployment>[0]),
  'v1/ServiceAccount': (data: unknown) =>
    new ServiceAccount(data as ConstructorParameters<typeof ServiceAccount>[0]),
  'rbac.authorization.k8s.io/v1/Role': (data: unknown) =>
    new Role(data as ConstructorParameters<typeof Role>[0]),
  'rbac.authorization.k8s.io/v1/RoleBinding': (data: unknown) =>
    new RoleBinding(data as ConstructorParameters<typeof RoleBinding>[0]),
} as const;
/** Manifests for optional features (pod discovery), applied by hand rather than by kustomization.yaml. */
const OPTIONAL_PREFIX = 'discovery-';

interface Manifest {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  for (const file of readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const data = doc.toJS() as Record<string, unknown>;
      manifests.push({ file, apiVersion: String(data['apiVersion']), kind: String(data['kind']), data });
    }
  }
  return manifests;
}

const manifests = loadManifests();
function only<K extends string>(kind: K): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found.length, `one ${kind}`).toBe(1);
  return found[0] as Manifest;
}
const deployment = new Deployment(only('Deployment').data as ConstructorParameters<typeof Deployment>[0]);
const service = new Service(only('Service').data as ConstructorParameters<typeof Service>[0]);
const configMap = new ConfigMap(only('ConfigMap').data as ConstructorParameters<typeof ConfigMap>[0]);
const pod = deployment.spec?.template.spec;
const container = pod?.containers.find((c) => c.name === 'pd-router');
const routerConfig = parseYaml(configMap.data?.['config.yaml'] ?? '') as Record<string, unknown>;
const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1) as Stage;

function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}
const healthCheck = execForm(instructions(runtime, 'HEALTHCHECK')[0] ?? '') ?? [];

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes API schemas', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    for (const m of manifests) {
      const model = MODELS[`${m.apiVersion}/${m.kind}` as keyof typeof MODELS];
      expect(model, `${m.file}: ${m.apiVersion} ${m.kind} has no schema here`).toBeDefined();
      expect(() => model(m.data).validate(), m.file).not.toThrow();
    }
  });

  it('are all listed in kustomization.yaml, except the optional discovery RBAC', () => {
    const kustomization = parseYaml(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as {
      resources: string[];
    };
    const files = new Set(manifests.map((m) => m.file).filter((f) => !f.startsWith(OPTIONAL_PREFIX)));
    expect([...kustomization.resources].sort()).toEqual([...files].sort());
  });

  it('give pod discovery read-only access to pods, bound to the router service account', () => {
    const role = new Role(only('Role').data as ConstructorParameters<typeof Role>[0]);
    const binding = new RoleBinding(only('RoleBinding').data as ConstructorParameters<typeof RoleBinding>[0]);
    const account = new ServiceAccount(
      only('ServiceAccount').data as ConstructorParameters<typeof ServiceAccount>[0],
    );
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata?.name,
    });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: account.metadata?.name }]);
  });

  it('probe /readiness and /liveness on the container port the Service targets', () => {
    expect(container, 'a container named pd-router').toBeDefined();
    const port = container?.ports?.find((p) => p.name === 'http');
    expect(port?.containerPort).toBe(routerConfig['port']);
    expect(container?.readinessProbe?.httpGet).toMatchObject({ path: '/readiness', port: 'http' });
    expect(container?.livenessProbe?.httpGet).toMatchObject({ path: '/liveness', port: 'http' });
    expect(container?.startupProbe?.httpGet).toMatchObject({ path: '/liveness', port: 'http' });
    expect(service.spec?.ports?.[0]).toMatchObject({ port: routerConfig['port'], targetPort: 'http' });
    const podLabels = deployment.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(deployment.spec?.selector.matchLabels ?? { missing: 'selector' });
    expect(podLabels).toMatchObject(service.spec?.selector ?? { missing: 'selector' });
  });

  it('run the router non-root, read-only, without privileges, with requests and limits', () => {
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    for (const kind of ['requests', 'limits'] as const) {
      expect(Object.keys(container?.resources?.[kind] ?? {}).sort(), kind).toEqual(['cpu', 'memory']);
    }
    // The image's user is the one the pod asks for.
    expect(instructions(runtime, 'USER')).toEqual([
      `${pod?.securityContext?.runAsUser}:${pod?.securityContext?.runAsGroup}`,
    ]);
  });

  it('take the config file from the ConfigMap, and shut down within the grace period', () => {
    expect(container?.args).toEqual(['--config', '/etc/pd-router/config.yaml']);
    const mount = container?.volumeMounts?.find((v) => v.mountPath === '/etc/pd-router');
    const volume = pod?.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.configMap?.name).toBe(configMap.metadata?.name);
    expect(Object.keys(configMap.data ?? {})).toEqual(['config.yaml']);
    expect(routerConfig['host']).toBe('0.0.0.0');
    const preStopSeconds = Number(container?.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
    const grace = (pod?.terminationGracePeriodSeconds ?? 30) * 1_000;
    expect(Number(routerConfig['shutdownTimeoutMs']) + preStopSeconds * 1_000).toBeLessThan(grace);
  });
});

describe("the ConfigMap's config file with the real CLI, and the image's health check", () => {
  let dir = '';
  let router: ChildService | undefined;
  let base = '';
  const healthEnv = (url: string) => ({ ...process.env, PD_ROUTER_HEALTH_URL: url });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pd-router-deploy-'));
    const file = join(dir, 'config.yaml');
    await writeFile(file, configMap.data?.['config.yaml'] ?? '');
    const args = [...(container?.args ?? [])].map((a) => (a === '/etc/pd-router/config.yaml' ? file : a));
    // Loopback and a free port here; in the pod the file's 0.0.0.0:30000 applies. The file's
    // workers are cluster names: the flags replace them with closed loopback ports, so the health
    // checks never leave this machine (the specs themselves are checked below).
    const loopback = [
      ...['--host', '127.0.0.1', '--port', '0'],
      ...[
        '--prefill',
        'http://127.0.0.1:1:zmq://127.0.0.1:2',
        '--decode',
        'http://127.0.0.1:3:zmq://127.0.0.1:4',
      ],
    ];
    const cli = join(REPO_ROOT, 'packages', 'server', 'dist', 'cli.js');
    router = new ChildService('pd-router', process.execPath, [cli, ...args, ...loopback], { cwd: dir });
    base = (await router.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1] ?? '';
  });

  afterAll(async () => {
    await router?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('lists workers as valid worker specs that name their ZMQ address', () => {
    for (const key of ['prefill', 'decode']) {
      const specs = routerConfig[key];
      expect(Array.isArray(specs), key).toBe(true);
      for (const spec of specs as unknown[]) {
        const parsed = parseWorkerUrl(String(spec));
        expect(parsed.ok, `${key}: ${String(spec)}`).toBe(true);
        if (parsed.ok) expect(parsed.value.zmqFromHttp, String(spec)).toBe(false);
      }
    }
  });

  it('starts, and answers /liveness and /readiness', async () => {
    const liveness = await fetch(`${base}/liveness`, { signal: AbortSignal.timeout(10_000) });
    expect(liveness.status).toBe(200);
    const readiness = await fetch(`${base}/readiness`, { signal: AbortSignal.timeout(10_000) });
    expect([200, 503]).toContain(readiness.status);
    expect(await readiness.json()).toHaveProperty('status');
  });

  it('the HEALTHCHECK command passes against the live router; SIGTERM exits 0; then the check fails', async () => {
    expect(healthCheck[0]).toBe('node');
    const [command = 'node', ...args] = healthCheck;
    const cmd = command === 'node' ? process.execPath : command;
    const up = await run(cmd, args, { cwd: dir, env: healthEnv(`${base}/liveness`), timeoutMs: 15_000 });
    expect(up.code, up.report).toBe(0);
    expect(await router?.stop()).toBe(0);
    const down = await run(cmd, args, { cwd: dir, env: healthEnv(`${base}/liveness`), timeoutMs: 15_000 });
    expect(down.code, down.report).toBe(1);
  });
});

describe('deploy/Dockerfile', () => {
  it('is multi-stage on node:20-bookworm-slim, each stage named, copying only from earlier stages', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const names: string[] = [];
    for (const stage of dockerfile.stages) {
      expect(stage.image).toBe('node:20-bookworm-slim');
      for (const copy of instructions(stage, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy)?.[1];
        if (from !== undefined) expect(names, `COPY --from=${from}`).toContain(from);
      }
      expect(stage.name).toBeDefined();
      names.push(stage.name ?? '');
    }
  });

  it('builds with the same environment and pnpm as CI, and packs core and server', () => {
    const build = dockerfile.stages[0] as Stage;
    const ci = readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8');
    const env = instructions(build, 'ENV').join(' ');
    for (const m of ci.matchAll(/\b(COREPACK_[A-Z_]+|TURBO_TELEMETRY_DISABLED|CI)=(\S+)/g)) {
      expect(env, `ENV ${m[1]}`).toContain(`${m[1]}=${m[2]}`);
    }
    const runs = instructions(build, 'RUN').join('\n');
    expect(runs).toContain('corepack enable pnpm');
    expect(runs).toContain('pnpm install --frozen-lockfile');
    expect(runs).toMatch(/packages\/core && pnpm pack[\s\S]*packages\/server && pnpm pack/);
  });

  it('runs as a non-root user, with a curl-free HEALTHCHECK on /liveness, EXPOSE and ENTRYPOINT pd-router', () => {
    const users = instructions(runtime, 'USER');
    expect(users.length).toBe(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(instructions(runtime, 'RUN')).toEqual([]);
    expect(healthCheck.join(' ')).toContain('fetch(process.env.PD_ROUTER_HEALTH_URL)');
    expect(instructions(runtime, 'ENV').join(' ')).toMatch(
      /PD_ROUTER_HEALTH_URL=http:\/\/127\.0\.0\.1:30000\/liveness/,
    );
    expect(instructions(runtime, 'EXPOSE')).toEqual(['30000']);
    const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT')[0] ?? '');
    expect(entrypoint?.at(-1)).toMatch(/\/pd-router$/);
    expect(execForm(instructions(runtime, 'CMD')[0] ?? '')).toEqual([
      '--host',
      '0.0.0.0',
      '--config',
      '/etc/pd-router/config.yaml',
    ]);
    const install = dockerfile.stages.find((s) => s.name === 'install');
    expect(instructions(install as Stage, 'RUN').join(' ')).toMatch(/npm install --omit=dev/);
  });

  it('has a .dockerignore that keeps host builds and node_modules out of the context', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', '**/dist', '.git']) expect(ignore).toContain(entry);
  });
});
