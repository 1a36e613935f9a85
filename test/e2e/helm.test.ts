/**
 * The Helm chart against the real API server (its pods are kwok-simulated): `helm install` with every
 * in-cluster feature on, every rendered object accepted; the chart's RBAC is enough for the operator to do its
 * whole job (run here with a token of the chart's ServiceAccount) and no more; `helm upgrade` and
 * `helm uninstall` work, and the CRD stays.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, createTestNamespace, runningPod, waitFor } from './support/cluster.ts';
import { helmBinary } from '../support/binaries.ts';
import { fastArgs, OperatorProcess } from './support/operator.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHART = resolve(ROOT, 'deploy/helm/aicost-operator');
const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const RELEASE = 'aicost';
const NS = 'aicost-helm-e2e';
const CRD = 'aicostpolicies.aicost.dev';
const run = (cmd: string, args: string[], input?: string) => {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${String(r.status)}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
};
const kubectl = (args: string[], input?: string) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], input);
const helm = (args: string[]) => run(helmBinary(), ['--kubeconfig', kubeconfig, '--namespace', NS, ...args]);
/** `helm upgrade` keeping the values, with one more set, until the rollout is done. */
const upgrade = (set: string) =>
  helm(['upgrade', RELEASE, CHART, '--reuse-values', '--set', set, '--wait', '--timeout', '180s']);

// Every in-cluster feature that needs no third-party CRD (a ServiceMonitor needs prometheus-operator's).
const INSTALL = [
  '--set',
  'webhook.enabled=true',
  // The chart's pods are kwok-simulated: nothing answers at the webhook's address, and the default failurePolicy
  // (Fail) would refuse every pod this suite creates. The default itself is checked in test/chart.
  '--set',
  'webhook.failurePolicy=Ignore',
  '--set',
  'networkPolicy.enabled=true',
  '--set',
  'grafanaDashboard.enabled=true',
  '--set',
  `prometheus.url=${prometheusUrl || 'http://127.0.0.1:1'}`,
  '--set',
  'accounting.interval=60s',
  '--set-json',
  'pricing.custom={"spot":{"discounts":[{"provider":"aws","percent":"65"}]}}',
];

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}
const manifest = () =>
  parseAllDocuments(helm(['get', 'manifest', RELEASE]))
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);

let op: OperatorProcess | undefined;
let work: Awaited<ReturnType<typeof createTestNamespace>> | undefined;

beforeAll(() => {
  // A CRD applied earlier by kubectl (other suites do) is adopted the documented way, so helm may own it.
  if (spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'crd', CRD]).status === 0) {
    kubectl(['label', 'crd', CRD, 'app.kubernetes.io/managed-by=Helm', '--overwrite']);
    kubectl([
      'annotate',
      'crd',
      CRD,
      `meta.helm.sh/release-name=${RELEASE}`,
      `meta.helm.sh/release-namespace=${NS}`,
      '--overwrite',
    ]);
  }
});

afterAll(async () => {
  await op?.stop('SIGKILL');
  spawnSync(helmBinary(), ['--kubeconfig', kubeconfig, '--namespace', NS, 'uninstall', RELEASE, '--wait'], {
    stdio: 'ignore',
  });
  spawnSync('kubectl', [
    '--kubeconfig',
    kubeconfig,
    'delete',
    'acp',
    `helm-rbac-${work?.name ?? ''}`,
    '--ignore-not-found',
  ]);
  spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', NS, '--ignore-not-found', '--wait=false']);
  await work?.remove();
});

describe('Helm chart on the local cluster', () => {
  it('installs: every rendered object is accepted and the Deployment becomes available', () => {
    helm(['install', RELEASE, CHART, '--create-namespace', '--wait', '--timeout', '180s', ...INSTALL]);
    const objects = manifest();
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'MutatingWebhookConfiguration',
      'NetworkPolicy',
      'ConfigMap',
      'Secret',
      'CustomResourceDefinition',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ])
      expect(kinds, kind).toContain(kind);
    // kubectl fetches every object of the manifest back from the API server, and fails on a missing one.
    const fetched = kubectl(['get', '-n', NS, '-f', '-', '-o', 'name'], helm(['get', 'manifest', RELEASE]));
    expect(fetched.trim().split('\n')).toHaveLength(objects.length);
    const deployment = JSON.parse(
      kubectl(['get', 'deployment', '-n', NS, '-l', 'app.kubernetes.io/name=aicost-operator', '-o', 'json']),
    ) as {
      items: {
        spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
        status: { availableReplicas?: number };
      }[];
    };
    expect(deployment.items[0]?.spec.replicas).toBe(2);
    expect(deployment.items[0]?.status.availableReplicas).toBe(2);
    const args = deployment.items[0]?.spec.template.spec.containers[0]?.args ?? [];
    expect(args).toEqual(
      expect.arrayContaining([
        'run',
        '--interval=60s',
        '--webhook-port=9443',
        '--pricing-file=/etc/aicost/pricing/pricing.yaml',
      ]),
    );
    const webhook = objects.find((o) => o.kind === 'MutatingWebhookConfiguration');
    const live = JSON.parse(
      kubectl(['get', 'mutatingwebhookconfiguration', webhook?.metadata.name ?? '', '-o', 'json']),
    ) as {
      webhooks: { failurePolicy: string; clientConfig: { caBundle?: string }; namespaceSelector: unknown }[];
    };
    expect(live.webhooks[0]?.failurePolicy).toBe('Ignore');
    expect(live.webhooks[0]?.clientConfig.caBundle?.length ?? 0).toBeGreaterThan(100);
    expect(JSON.stringify(live.webhooks[0]?.namespaceSelector)).toContain(NS);
    expect(JSON.stringify(live.webhooks[0]?.namespaceSelector)).toContain('kube-system');
  });

  it("the chart's RBAC lets the operator do its whole job, and nothing it does not need", async () => {
    const sa = manifest().find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
    const token = kubectl(['create', 'token', sa, '-n', NS, '--duration', '1h']).trim();
    const admin = JSON.parse(kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
      clusters: {
        cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string };
      }[];
    };
    const c = admin.clusters[0]?.cluster;
    const saConfig = join(mkdtempSync(join(tmpdir(), 'aicost-sa-')), 'kubeconfig');
    writeFileSync(
      saConfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: c }],
        users: [{ name: sa, user: { token } }],
        contexts: [{ name: 'sa', context: { cluster: 'c', user: sa } }],
        'current-context': 'sa',
      }),
    );
    // kubectl auth can-i names a subresource with --subresource ("pods/eviction" would mean the pod "eviction").
    const asSa = (verb: string, resource: string, ns?: string) => {
      const [res = '', sub] = resource.split('/');
      return spawnSync(
        'kubectl',
        [
          '--kubeconfig',
          saConfig,
          'auth',
          'can-i',
          verb,
          res,
          ...(sub ? [`--subresource=${sub}`] : []),
          ...(ns ? ['-n', ns] : []),
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    };
    // Least privilege, as the API server sees it. (KEDA's ScaledObjects are not checked here: kubectl cannot
    // resolve a resource whose CRD is not installed; the unit test checks the rule.)
    for (const [verb, resource] of [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['create', 'customresourcedefinitions.apiextensions.k8s.io'],
      ['patch', 'mutatingwebhookconfigurations.admissionregistration.k8s.io'],
      ['delete', 'pods'],
      ['create', 'deployments.apps'],
      ['update', 'aicostpolicies.aicost.dev'],
      ['update', 'pods/status'],
      ['create', 'pods/exec'],
      // Verbs the operator never calls are not granted (docs/security.md, "RBAC").
      ['get', 'pods'],
      ['update', 'deployments.apps/scale'],
      ['update', 'aicostpolicies.aicost.dev/status'],
    ] as const)
      expect(`${verb} ${resource}: ${asSa(verb, resource, 'default')}`).toBe(`${verb} ${resource}: no`);
    for (const [verb, resource] of [
      ['patch', 'deployments.apps/scale'],
      ['patch', 'statefulsets.apps/scale'],
      ['patch', 'jobs.batch'],
      ['create', 'pods/eviction'],
      ['create', 'events'],
      ['list', 'events'],
      ['patch', 'aicostpolicies.aicost.dev/status'],
      // Secure /metrics: the operator asks the API server who a caller is and whether it may get /metrics.
      ['create', 'tokenreviews.authentication.k8s.io'],
      ['create', 'subjectaccessreviews.authorization.k8s.io'],
    ] as const)
      expect(`${verb} ${resource}: ${asSa(verb, resource, 'default')}`).toBe(`${verb} ${resource}: yes`);
    expect(asSa('update', 'leases.coordination.k8s.io', NS)).toBe('yes');
    expect(asSa('patch', 'leases.coordination.k8s.io', NS)).toBe('no');
    expect(asSa('update', 'leases.coordination.k8s.io', 'default')).toBe('no');

    // The operator's whole job with that token: accounting annotations, the Lease, idle actions, status, Events,
    // under the chart's operator-writes admission policy (on by default), which must let every one of them through.
    work = await createTestNamespace(client, 'helm');
    const gpuPod = (utilization: string) => ({
      metadata: { labels: { team: 'helm' }, annotations: { 'dcgm-sim.aicost.dev/utilization': utilization } },
      spec: {
        nodeSelector: { 'node.kubernetes.io/instance-type': 'p4d.24xlarge' },
        containers: [{ name: 'c', image: 'registry.local/x:1', resources: { limits: { 'nvidia.com/gpu': '1' } } }],
      },
    });
    await client.create(`/apis/apps/v1/namespaces/${work.name}/deployments`, {
      metadata: { name: 'endpoint', labels: { team: 'helm' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'endpoint' } },
        template: { ...gpuPod('0'), metadata: { ...gpuPod('0').metadata, labels: { app: 'endpoint', team: 'helm' } } },
      },
    });
    await client.create(`/apis/batch/v1/namespaces/${work.name}/jobs`, {
      metadata: { name: 'train', labels: { team: 'helm' } },
      spec: { template: { ...gpuPod('0'), spec: { ...gpuPod('0').spec, restartPolicy: 'Never' } } },
    });
    await client.create(`/api/v1/namespaces/${work.name}/pods`, {
      ...gpuPod('0'),
      metadata: { ...gpuPod('0').metadata, name: 'notebook' },
    });
    await runningPod(client, work.name, 'app=endpoint');
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'aicost.dev/v1alpha1',
        kind: 'AICostPolicy',
        metadata: { name: `helm-rbac-${work.name}` },
        spec: {
          mode: 'Enforce',
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': work.name } },
          rules: { idleGPU: { idleAfter: '15s', gracePeriod: '5s' }, scaleToZero: { idleAfter: '15s' } },
        },
      }),
    );
    op = OperatorProcess.start({
      kubeconfig: saConfig,
      logDir,
      name: `helm-sa-${work.name}`,
      args: [
        ...fastArgs(prometheusUrl),
        '--namespace',
        NS,
        '--leader-elect',
        'true',
        '--leader-election-id',
        `helm-e2e-${work.name}`,
        '--metrics-secure',
        'true',
      ],
    });
    const wns = work.name;
    await waitFor(
      async () => {
        const d = await client.get<{ spec: { replicas: number } }>(
          `/apis/apps/v1/namespaces/${wns}/deployments/endpoint`,
        );
        const j = await client.get<{ spec: { suspend?: boolean }; metadata: { annotations?: Record<string, string> } }>(
          `/apis/batch/v1/namespaces/${wns}/jobs/train`,
        );
        const pods = await client.list<{ metadata: { name: string } }>(`/api/v1/namespaces/${wns}/pods`);
        return (
          d.spec.replicas === 0 && j.spec.suspend === true && !pods.items.some((p) => p.metadata.name === 'notebook')
        );
      },
      {
        description: 'scale to zero, Job suspended and the bare pod evicted, with the chart ServiceAccount',
        timeoutMs: 150_000,
        intervalMs: 2000,
      },
    );
    const ns = await client.get<{ metadata: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${wns}`);
    expect(ns.metadata.annotations?.['aicost.dev/cost']).toMatch(/^\d+\.\d{6}$/);
    const policy = await client.get<{ status?: { actionCount?: number } }>(
      `/apis/aicost.dev/v1alpha1/aicostpolicies/helm-rbac-${wns}`,
    );
    expect(policy.status?.actionCount ?? 0).toBeGreaterThanOrEqual(3);
    const lease = await client.get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/helm-e2e-${wns}`,
    );
    expect(lease.spec.holderIdentity).toBe(`helm-sa-${wns}`);
    const denied = op.logs().filter((l) => JSON.stringify(l).match(/forbidden|\b403\b/i));
    expect(denied).toEqual([]);

    // Secure /metrics, reviewed with the chart's RBAC: only a user bound to the metrics-reader ClusterRole reads it.
    const reader = manifest().find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith('-metrics-reader'));
    expect(reader).toBeDefined();
    kubectl(['create', 'serviceaccount', 'scraper', '-n', NS]);
    kubectl(['create', 'serviceaccount', 'stranger', '-n', NS]);
    kubectl([
      'create',
      'clusterrolebinding',
      `helm-e2e-scraper-${wns}`,
      `--clusterrole=${reader?.metadata.name ?? ''}`,
      `--serviceaccount=${NS}:scraper`,
    ]);
    try {
      const tokenOf = (name: string) => kubectl(['create', 'token', name, '-n', NS, '--duration', '10m']).trim();
      expect((await op.secureMetrics()).status).toBe(401);
      expect((await op.secureMetrics('not-a-token')).status).toBe(401);
      expect((await op.secureMetrics(tokenOf('stranger'))).status).toBe(403);
      const scrape = await op.secureMetrics(tokenOf('scraper'));
      expect(scrape.status).toBe(200);
      expect(scrape.body).toContain('aicost_namespace_cost_total');
    } finally {
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'clusterrolebinding', `helm-e2e-scraper-${wns}`]);
    }
    await op.stop('SIGTERM');
  });

  it("the operator-keys policy: only the operator's service account writes its aicost.dev/ annotations", async () => {
    const sa = manifest().find((o) => o.kind === 'ServiceAccount')?.metadata.name ?? '';
    const ns = 'aicost-vap-e2e';
    // system:masters passes RBAC, not admission: what is denied here, the ValidatingAdmissionPolicy denied.
    const as = (user: string, args: string[], input?: string) =>
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, `--as=${user}`, '--as-group=system:masters', ...args], {
        input,
        encoding: 'utf8',
      });
    const tenant = (args: string[], input?: string) => as('tenant', args, input);
    const operator = (args: string[]) => as(`system:serviceaccount:${NS}:${sa}`, args);
    const deployment = (templateAnnotations: Record<string, string>) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'llm', namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'llm' } },
          template: {
            metadata: { labels: { app: 'llm' }, annotations: templateAnnotations },
            spec: { containers: [{ name: 'c', image: 'registry.invalid/llm' }] },
          },
        },
      });
    spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'create', 'namespace', ns]);
    try {
      const forged = tenant(['apply', '-f', '-'], deployment({ 'aicost.dev/idle-since': '2026-01-01T00:00:00Z' }));
      expect(forged.status).not.toBe(0);
      expect(forged.stderr).toContain(
        'aicost.dev/idle-since in the pod template are written only by the aicost operator',
      );
      expect(tenant(['apply', '-f', '-'], deployment({ 'aicost.dev/checkpoint-path': '/ckpt' })).status).toBe(0);
      const cost = tenant(['annotate', '-n', ns, 'deployment/llm', 'aicost.dev/cost=0']);
      expect(cost.status).not.toBe(0);
      expect(cost.stderr).toContain('aicost.dev/cost are written only by the aicost operator');
      expect(tenant(['annotate', '-n', ns, 'deployment/llm', 'aicost.dev/wake=now']).status).toBe(0);
      expect(tenant(['annotate', 'namespace', ns, 'aicost.dev/cost=0']).status).not.toBe(0);
      // The operator writes and the tenant cannot remove what it wrote; other changes go through.
      expect(operator(['annotate', '-n', ns, 'deployment/llm', 'aicost.dev/cost=1.5']).status).toBe(0);
      expect(tenant(['annotate', '-n', ns, 'deployment/llm', 'aicost.dev/cost-']).status).not.toBe(0);
      expect(tenant(['scale', '-n', ns, 'deployment/llm', '--replicas=2']).status).toBe(0);
      // Pods from the clean template are created (the spot webhook's marks are allowed on a Pod CREATE).
      await waitFor(
        () => {
          const pods = JSON.parse(kubectl(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: unknown[] };
          return pods.items.length >= 2 ? true : undefined;
        },
        { timeoutMs: 60_000, description: 'the Deployment to create its pods' },
      );
    } finally {
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', ns, '--wait=false']);
    }
  });

  it('upgrades in place, keeping the webhook certificate', () => {
    const secretOf = () =>
      kubectl([
        'get',
        'secret',
        '-n',
        NS,
        '-l',
        'app.kubernetes.io/name=aicost-operator',
        '-o',
        'jsonpath={.items[*].data.tls\\.crt}',
      ]);
    const before = secretOf();
    upgrade('accounting.interval=30s');
    const args = kubectl([
      'get',
      'deployment',
      '-n',
      NS,
      '-l',
      'app.kubernetes.io/name=aicost-operator',
      '-o',
      'jsonpath={.items[0].spec.template.spec.containers[0].args}',
    ]);
    expect(args).toContain('--interval=30s');
    expect(secretOf()).toBe(before);
    expect(helm(['history', RELEASE, '-o', 'json'])).toContain('"revision":2');
  });

  it('webhook.separateDeployment: the webhook moves to a Deployment of its own, and the Service follows it', async () => {
    upgrade('webhook.separateDeployment=true');
    const name = `${RELEASE}-aicost-operator-webhook`;
    const webhook = JSON.parse(kubectl(['get', 'deployment', '-n', NS, name, '-o', 'json'])) as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
      status: { availableReplicas?: number };
    };
    expect(webhook.status.availableReplicas).toBe(2);
    expect(webhook.spec.template.spec.containers[0]?.args[0]).toBe('webhook');
    const operator = kubectl(['get', 'deployment', '-n', NS, `${RELEASE}-aicost-operator`, '-o', 'json']);
    expect(operator).not.toContain('--webhook-port');
    // The webhook Service's endpoints become the webhook's pods, and only them.
    await waitFor(
      () => {
        const slices = JSON.parse(
          kubectl(['get', 'endpointslices', '-n', NS, '-l', `kubernetes.io/service-name=${name}`, '-o', 'json']),
        ) as { items: { endpoints?: { targetRef?: { name: string } }[] }[] };
        const pods = slices.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef?.name ?? ''));
        return pods.length === 2 && pods.every((p) => p.startsWith(`${name}-`)) ? pods : undefined;
      },
      { timeoutMs: 60_000, description: "the webhook Service's endpoints to be the webhook Deployment's pods" },
    );
  });

  it('uninstalls, and the CRD (and so every policy) stays', () => {
    helm(['uninstall', RELEASE, '--wait']);
    expect(kubectl(['get', 'crd', CRD, '-o', 'name']).trim()).toBe(
      `customresourcedefinition.apiextensions.k8s.io/${CRD}`,
    );
    expect(kubectl(['get', 'mutatingwebhookconfigurations', '-o', 'name'])).not.toContain('aicost-operator');
    expect(kubectl(['get', 'deployments', '-n', NS, '-o', 'name']).trim()).toBe('');
  });
});
