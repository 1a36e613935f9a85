/**
 * The artifact users run: the image built from the project's Dockerfile (test/image/build.sh, buildah on a
 * local Node 24 base made from Debian packages) started by podman exactly as the Helm chart's Deployment
 * says: its command, args, env, user, groups and security context come from `helm template` (through
 * test/support/pod-run.ts, which refuses what it cannot run), with the chart's ServiceAccount token, CA and
 * namespace mounted where the kubelet mounts them, and its ConfigMap and Secret volumes. It must become ready
 * and write cost annotations. Prints the image size and the time to ready (docs/benchmarks.md).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
  createTestNamespace,
  kubectlFor,
  promQuery,
  runningPod,
  waitFor,
  type TestNamespace,
} from './support/cluster.ts';
import { helmBinary } from '../support/binaries.ts';
import { podRunArgs, type PodSpec } from '../support/pod-run.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHART = resolve(ROOT, 'deploy/helm/aicost-operator');
const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
const RELEASE = 'aicost-img';
const NS = 'aicost-image-e2e';
const POD = `${RELEASE}-operator-0`;

interface Rendered {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template?: { spec: PodSpec } };
}

const portFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once('error', () => done(false))
      .listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });

let container: ChildProcess | undefined;
let work: TestNamespace | undefined;
let image = '';
/** When the container was started (ms): the dashboard check reads only what it exported since. */
let startedMs = 0;
let rendered: Rendered[] = [];

beforeAll(() => {
  image = execFileSync('bash', [join(ROOT, 'test/image/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_200_000,
  }).trim();
  rendered = parseAllDocuments(
    execFileSync(
      helmBinary(),
      [
        'template',
        RELEASE,
        CHART,
        '--namespace',
        NS,
        '--set',
        `prometheus.url=${prometheusUrl || 'http://127.0.0.1:1'}`,
        '--set',
        'accounting.interval=5s',
        '--set',
        'accounting.annotateInterval=5s',
        '--set',
        'webhook.enabled=true',
        // The DCGM simulator is scraped every 5 s, not at the 15 s the operator assumes by default.
        '--set',
        'extraArgs={--scrape-interval=5s}',
        // The local cluster's Prometheus scrapes port 8080 in plain HTTP without a token (the same job scrapes
        // npm start and the demo); secure /metrics is tested with the chart's RBAC in helm.test.ts.
        '--set',
        'metrics.secure=false',
        '--set-json',
        'pricing.custom={"spot":{"discounts":[{"provider":"aws","percent":"65"}]}}',
      ],
      { encoding: 'utf8' },
    ),
  )
    .map((d) => d.toJS() as Rendered | null)
    .filter((d): d is Rendered => d !== null);
}, 1_300_000);

afterAll(async () => {
  spawnSync('podman', ['rm', '--force', '--time', '5', POD], { stdio: 'ignore' });
  container?.kill('SIGKILL');
  spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  if (work) spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'acp', `image-idle-${work.name}`]);
  for (const o of rendered.filter((r) => r.kind.startsWith('Cluster')))
    spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', o.kind, o.metadata.name, '--ignore-not-found']);
  await work?.remove();
});

const idlePolicy = (namespace: string) => ({
  apiVersion: 'aicost.dev/v1alpha1',
  kind: 'AICostPolicy',
  metadata: { name: `image-idle-${namespace}` },
  spec: {
    mode: 'Audit',
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
    rules: { idleGPU: { idleAfter: '10s', gracePeriod: '5s' }, spot: { mode: 'Enforce', placement: 'Preferred' } },
  },
});

const checkpointedPod = (namespace: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'image-e2e-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    object: {
      metadata: {
        generateName: 'train-',
        namespace,
        annotations: { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' },
      },
      spec: { containers: [{ name: 'main', resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    },
  },
});

/** POSTs a review to the container's webhook over TLS, checking its certificate for the Service's name. */
function admissionReview(ca: string, servername: string, review: unknown): Promise<string> {
  return new Promise((done, fail) => {
    const body = JSON.stringify(review);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: 9443,
        path: '/mutate-v1-pod',
        method: 'POST',
        ca,
        servername,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => (res.statusCode === 200 ? done(text) : fail(new Error(`${res.statusCode}: ${text}`))));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

/** The files a configMap or Secret volume shows, written as the kubelet writes them (mode 0644). */
function volumeDir(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o755 });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text, { mode: 0o644 });
  return dir;
}

describe('the image under the chart', () => {
  it('starts with the chart’s own argv and security context, becomes ready and writes cost annotations', async () => {
    for (const port of [8080, 8081, 9443])
      expect(await portFree(port), `port ${port} must be free: the container uses the host network`).toBe(true);
    // 1. Everything the Deployment needs from the API: its namespace, RBAC, ConfigMap and Secret; the CRD.
    kubectl(['create', 'namespace', NS]);
    kubectl(['apply', '-f', join(ROOT, 'deploy/crds')]);
    const needed = [
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'ConfigMap',
      'Secret',
    ];
    kubectl(
      ['apply', '-n', NS, '-f', '-'],
      rendered
        .filter((r) => needed.includes(r.kind))
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const deployment = rendered.find((r) => r.kind === 'Deployment');
    const spec = deployment?.spec?.template?.spec;
    if (!spec) throw new Error('helm template rendered no Deployment');

    // 2. What the kubelet mounts: the token, CA and namespace; the ConfigMap's and Secret's files.
    const host = mkdtempSync(join(tmpdir(), 'aicost-image-'));
    const token = kubectl(['create', 'token', spec.serviceAccountName ?? 'default', '-n', NS, '--duration', '1h']);
    const kc = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
      clusters: {
        cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string };
      }[];
    };
    const c = kc.clusters[0]?.cluster;
    const ca = c?.['certificate-authority-data']
      ? Buffer.from(c['certificate-authority-data'], 'base64').toString()
      : readFileSync(c?.['certificate-authority'] ?? '', 'utf8');
    const server = new URL(c?.server ?? '');
    const sa = volumeDir(host, 'serviceaccount', { token: token.trim(), 'ca.crt': ca, namespace: NS });
    const volumeDirs: Record<string, string> = {};
    for (const v of spec.volumes ?? []) {
      const source = v.configMap?.name ?? v.secret?.secretName;
      const object = rendered.find(
        (r) => (r.kind === 'ConfigMap' || r.kind === 'Secret') && r.metadata.name === source,
      );
      if (!object) continue;
      const decode = (s: string) => (object.kind === 'Secret' ? Buffer.from(s, 'base64').toString() : s);
      volumeDirs[v.name] = volumeDir(
        host,
        v.name,
        Object.fromEntries(Object.entries(object.data ?? {}).map(([k, s]) => [k, decode(s)])),
      );
    }

    // 3. Run it, and time it to ready.
    const args = podRunArgs({
      spec,
      image,
      podName: POD,
      namespace: NS,
      volumeDirs,
      serviceAccountDir: sa,
      apiServer: { host: server.hostname, port: server.port || '443' },
      maxOpenFiles: Number(execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()),
    });
    const log = createWriteStream(join(logDir, 'image-operator.log'));
    const started = Date.now();
    startedMs = started;
    // runc: crun refuses hosts with hybrid cgroups, as this machine's are.
    container = spawn('podman', ['run', '--runtime', 'runc', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    container.stdout?.pipe(log);
    container.stderr?.pipe(log);
    let exited: number | null | undefined;
    container.once('exit', (code) => (exited = code));
    await waitFor(
      async () => {
        if (exited !== undefined)
          throw new Error(`the container exited with ${exited}; see ${logDir}/image-operator.log`);
        const r = await fetch('http://127.0.0.1:8081/readyz').catch(() => undefined);
        return r?.status === 200;
      },
      { description: 'the container’s /readyz', timeoutMs: 60_000, intervalMs: 250 },
    );
    const readyMs = Date.now() - started;
    // The build stamped the commit it was built from.
    // As test/image/build.sh stamps it: HEAD, and -dirty when the tree has changes.
    const git = (...a: string[]) => execFileSync('git', ['-C', ROOT, ...a], { encoding: 'utf8' }).trim();
    const head = git('rev-parse', 'HEAD') + (git('status', '--porcelain') ? '-dirty' : '');
    // A one-off run of the image with the container's rlimits (the entrypoint refuses to start without them).
    const runOnce = (...rest: string[]) =>
      execFileSync(
        'podman',
        [
          'run',
          '--rm',
          '--runtime',
          'runc',
          ...args.slice(args.indexOf('--ulimit'), args.indexOf('--ulimit') + 4),
          ...rest,
        ],
        { encoding: 'utf8' },
      );
    const version = runOnce(image, 'version');
    expect(version).toContain(`commit: ${head}`);
    // kubectl's plugin name is on PATH in the image, and the program knows it is called so.
    const plugin = runOnce('--entrypoint', 'kubectl-aicost', image, 'report', '--help');
    expect(plugin).toMatch(/^Usage: kubectl aicost report --by /);
    const size = execFileSync('podman', ['image', 'inspect', image, '--format', '{{.Size}}'], { encoding: 'utf8' });
    console.log(`image ${image}: ${(Number(size) / 1e6).toFixed(0)} MB; ready ${readyMs} ms after podman run`);

    // 4. It does its job as the chart's ServiceAccount: cost annotations on a GPU workload.
    work = await createTestNamespace(client, 'image');
    await client.create(`/apis/apps/v1/namespaces/${work.name}/deployments`, {
      metadata: { name: 'endpoint', labels: { team: 'image' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'endpoint' } },
        template: {
          metadata: {
            labels: { app: 'endpoint', team: 'image' },
            annotations: { 'dcgm-sim.aicost.dev/utilization': '0' },
          },
          spec: {
            nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
            containers: [{ name: 'c', image: 'registry.local/x:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
          },
        },
      },
    });
    await runningPod(client, work.name, 'app=endpoint');
    // For the dashboard: an Audit idle policy that acts on the idle endpoint, a spot policy, a Job on a spot node.
    kubectl(['apply', '-f', '-'], JSON.stringify(idlePolicy(work.name)));
    await client.create(`/apis/batch/v1/namespaces/${work.name}/jobs`, {
      metadata: { name: 'on-spot', labels: { team: 'image' } },
      spec: {
        template: {
          metadata: { labels: { team: 'image' }, annotations: { 'dcgm-sim.aicost.dev/utilization': '70' } },
          spec: {
            restartPolicy: 'Never',
            nodeSelector: { 'node.kubernetes.io/instance-type': 'g5.xlarge', 'eks.amazonaws.com/capacityType': 'SPOT' },
            containers: [{ name: 'c', image: 'registry.local/x:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
          },
        },
      },
    });
    await runningPod(client, work.name, 'job-name=on-spot');
    const wns = work.name;
    const annotations = await waitFor(
      async () => {
        const d = await client.get<{ metadata: { annotations?: Record<string, string> } }>(
          `/apis/apps/v1/namespaces/${wns}/deployments/endpoint`,
        );
        return d.metadata.annotations?.['aicost.dev/cost'] ? d.metadata.annotations : undefined;
      },
      { description: 'cost annotations written by the container', timeoutMs: 90_000, intervalMs: 1000 },
    );
    expect(annotations['aicost.dev/cost']).toMatch(/^\d+\.\d{6}$/);
    expect(annotations['aicost.dev/currency']).toBe('USD');
    const lease = await client.get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/aicost-operator`,
    );
    expect(lease.spec.holderIdentity).toBe(POD);
  });

  it.skipIf(!prometheusUrl)(
    'every panel of the chart’s Grafana dashboard has data from the running image',
    async () => {
      // A spot placement by the container's webhook, for the webhook panel (the API server would need the
      // chart's Service to call it, so the review is sent the way the API server sends it).
      const secret = rendered.find((r) => r.kind === 'Secret' && r.data?.['ca.crt']);
      const service = rendered.find((r) => r.kind === 'Service' && r.metadata.name.endsWith('-webhook'));
      await admissionReview(
        Buffer.from(secret?.data?.['ca.crt'] ?? '', 'base64').toString(),
        `${service?.metadata.name ?? ''}.${NS}.svc`,
        checkpointedPod(work?.name ?? ''),
      );
      const dashboard = JSON.parse(readFileSync(join(CHART, 'dashboards/aicost-operator.json'), 'utf8')) as {
        panels: { title: string; targets?: { expr: string }[] }[];
      };
      const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
      expect(queries.length).toBeGreaterThan(10);
      // Grafana's variables as a short test run needs them.
      // The series Prometheus scrapes at the chart's metrics port are this container's: it started after the test.
      const [target] = await promQuery('aicost_process_start_time_seconds{job="aicost-operator"}');
      expect(Number(target?.value[1]) * 1000).toBeGreaterThanOrEqual(startedMs - 5000);
      // Grafana's variables, as windows that start after the container did, so an earlier run's series
      // (an operator run at the same port minutes ago) cannot answer for it.
      const promql = (expr: string) => {
        const sinceStartS = Math.max(1, Math.floor((Date.now() - startedMs) / 1000));
        return expr
          .replaceAll('$__range', `${sinceStartS}s`)
          .replaceAll('$__rate_interval', `${Math.min(60, sinceStartS)}s`);
      };
      let empty = queries;
      await waitFor(
        async () => {
          const answers = await Promise.all(empty.map(async (q) => (await promQuery(promql(q.expr))).length > 0));
          empty = empty.filter((_, i) => !answers[i]);
          return empty.length === 0;
        },
        { description: 'series for every panel', timeoutMs: 150_000, intervalMs: 3000 },
      ).catch(() => undefined);
      expect(empty.map((q) => `${q.title}: ${promql(q.expr)}`)).toEqual([]);
    },
  );
});
