/**
 * The Helm chart without a cluster: helm lint, helm template snapshots (defaults and every feature on), values
 * rejected by values.schema.json with a message naming the value, and the properties a platform team checks:
 * least-privilege RBAC, the pod's security settings, the CRD switches, the webhook switch.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { chartValuesSchema } from '../../src/chart/values-schema.ts';
import { parseConfig } from '../../src/config/config.ts';
import { helmBinary } from '../support/binaries.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CHART = resolve(ROOT, 'deploy/helm/aicost-operator');
const FULL = resolve(ROOT, 'test/chart/fixtures/helm/full.yaml');

function helm(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

interface Deployment extends Obj {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        containers: { args: string[]; resources: unknown }[];
      };
    };
  };
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [k: string]: unknown;
}

function render(...args: string[]): Obj[] {
  const r = helm(['template', 'aicost', CHART, '--namespace', 'aicost-system', ...args]);
  if (r.status !== 0) throw new Error(r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

const find = (objs: Obj[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** A role's rules as sorted lines "group/resource: verbs", to compare with the list of what is needed. */
const grantsOf = (rules: Rule[]) =>
  rules
    .flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.map((res) => `${g || 'core'}/${res}: ${[...r.verbs].sort().join(',')}`)),
    )
    .sort();

/** Generated certificates differ on every render: a placeholder keeps the snapshot stable. */
function stable(text: string): string {
  return text
    .replace(/(tls\.crt|tls\.key|ca\.crt|caBundle): [A-Za-z0-9+/=]{100,}/g, '$1: <generated>')
    .replace(/^\s*helm\.sh\/chart: .*$/gm, '    helm.sh/chart: <chart>');
}

describe('helm chart', () => {
  it('renders without --kube-version: the helm binary carries its version stamps', () => {
    const versions = readFileSync(resolve(ROOT, 'test/cluster/versions.sh'), 'utf8');
    expect(helm(['version', '--template', '{{.Version}}']).out).toBe(/^HELM_VERSION=(\S+)/m.exec(versions)?.[1]);
    const r = helm(['template', 'aicost', CHART]);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
  });

  it('passes helm lint with the default and the full-featured values', () => {
    for (const extra of [[], ['-f', FULL]]) {
      const r = helm(['lint', CHART, ...extra]);
      expect(r.status, r.out + r.err).toBe(0);
    }
  });

  it('values.yaml itself satisfies the values schema', () => {
    const values: unknown = parse(readFileSync(resolve(CHART, 'values.yaml'), 'utf8'));
    expect(chartValuesSchema.safeParse(values).error).toBeUndefined();
  });

  it('renders the default values as in the snapshot', async () => {
    const r = helm(['template', 'aicost', CHART, '--namespace', 'aicost-system']);
    expect(r.status, r.err).toBe(0);
    await expect(stable(r.out)).toMatchFileSnapshot('__snapshots__/helm-default.yaml');
  });

  it('ledger.s3: the operator writes to the bucket, with the credentials from the Secret', () => {
    const d = find(
      render(
        '--set',
        'ledger.s3.bucketUrl=s3://aicost-ledger/prod',
        '--set',
        'ledger.s3.endpoint=http://minio.storage:9000',
        '--set',
        'ledger.s3.credentialsSecret=aicost-s3',
      ),
      'Deployment',
    ) as Obj & {
      spec: {
        template: {
          spec: {
            containers: {
              args: string[];
              env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
            }[];
          };
        };
      };
    };
    const container = d.spec.template.spec.containers[0];
    const [, ...args] = container?.args ?? [];
    // The kubelet resolves the Secret's keys into the environment; here they stand in for it.
    const env: Record<string, string> = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };
    for (const e of container?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    const config = parseConfig(args, env, 'host');
    expect(config.ledger).toBe('s3://aicost-ledger/prod');
    expect(config.ledgerS3).toMatchObject({ endpoint: 'http://minio.storage:9000', accessKeyId: 'AKID' });
    expect(container?.env.filter((e) => e.valueFrom?.secretKeyRef?.name === 'aicost-s3').map((e) => e.name)).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
    ]);
  });

  it('renders every feature as in the snapshot', async () => {
    const r = helm(['template', 'aicost', CHART, '--namespace', 'aicost-system', '-f', FULL]);
    expect(r.status, r.err).toBe(0);
    await expect(stable(r.out)).toMatchFileSnapshot('__snapshots__/helm-full.yaml');
  });

  it.each([
    [['--set', 'accounting.interval=-5s'], "at '/accounting/interval': '-5s' does not match pattern"],
    [['--set', 'replicaCount=two'], "at '/replicaCount': got string, want integer"],
    [['--set', 'foo=bar'], "additional properties 'foo' not allowed"],
    [['--set', 'webhook.nope=1'], "at '/webhook': additional properties 'nope' not allowed"],
    [['--set', 'policy.defaultMode=Sometimes'], "at '/policy/defaultMode'"],
    [['--set', 'webhook.timeoutSeconds=60'], "at '/webhook/timeoutSeconds'"],
    [['--set', 'webhook.replicaCount=0'], "at '/webhook/replicaCount'"],
    [['--set', 'webhook.separateDeployment=yes'], "at '/webhook/separateDeployment'"],
    [['--set', 'webhook.certificate.source=secret'], 'webhook.certificate.secretName is required'],
    [
      ['--set', 'ledger.s3.bucketUrl=s3://ledger/prod'],
      'ledger.s3.credentialsSecret is required with ledger.s3.bucketUrl',
    ],
    [['--set', 'ledger.s3.bucketUrl=/var/ledger'], "at '/ledger/s3/bucketUrl'"],
  ])('rejects %j with a message naming the value', (args, message) => {
    const r = helm(['template', 'aicost', CHART, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain(message);
  });

  it('grants least privilege: exactly the rules the operator uses, no Secrets, CRDs or webhook configurations', () => {
    const objs = render();
    const role = find(objs, 'ClusterRole') as Obj & { rules: Rule[] };
    expect(grantsOf(role.rules)).toEqual(
      [
        'core/nodes: get,list,watch',
        'core/namespaces: get,list,patch,watch',
        'core/pods: get,list,patch,watch',
        'core/pods/eviction: create',
        'core/events: create,patch',
        'core/events: list,watch',
        'events.k8s.io/events: create,patch',
        'apps/deployments: get,list,patch,watch',
        'apps/statefulsets: get,list,patch,watch',
        'apps/replicasets: get,list,watch',
        'apps/deployments/scale: get,patch,update',
        'apps/statefulsets/scale: get,patch,update',
        'batch/jobs: get,list,patch,watch',
        'keda.sh/scaledobjects: get,list,patch',
        'aicost.dev/aicostpolicies: get,list,watch',
        'aicost.dev/aicostpolicies/status: get,patch,update',
      ].sort(),
    );
    expect(JSON.stringify(role.rules)).not.toMatch(/secrets|customresourcedefinitions|webhookconfigurations|"\*"/);
    const lease = find(objs, 'Role') as Obj & { rules: { resources: string[] }[] };
    expect(lease.metadata.namespace).toBe('aicost-system');
    expect(lease.rules.map((r) => r.resources)).toEqual([['leases']]);
  });

  it('runs the operator non-root, read-only, without capabilities, with RuntimeDefault seccomp', () => {
    const d = find(render(), 'Deployment') as Obj & {
      spec: {
        replicas: number;
        template: {
          spec: {
            securityContext: Record<string, unknown>;
            containers: { securityContext: Record<string, unknown>; args: string[] }[];
            topologySpreadConstraints?: unknown[];
          };
        };
      };
    };
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]?.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.topologySpreadConstraints).toHaveLength(1);
    expect(pod.containers[0]?.args).toEqual(
      expect.arrayContaining(['run', '--leader-elect=true', '--default-mode=Audit', '--webhook-port=9443']),
    );
  });

  it('passes only flags the operator accepts, with valid values (default and full-featured values)', () => {
    // The pod's environment gives the namespace and identity (downward API).
    const env = { AICOST_NAMESPACE: 'aicost-system', AICOST_IDENTITY: 'pod-0' };
    for (const extra of [[], ['-f', FULL]]) {
      const [d, w] = render(...extra).filter((o) => o.kind === 'Deployment') as Deployment[];
      const [command, ...args] = d?.spec.template.spec.containers[0]?.args ?? [];
      expect(command).toBe('run');
      const config = parseConfig(args, env, 'host');
      expect(config.leaderElection).toMatchObject({ enabled: true, namespace: 'aicost-system', identity: 'pod-0' });
      // The full values serve the webhook from a Deployment of its own, the defaults from the operator's.
      const server = w
        ? parseConfig(w.spec.template.spec.containers[0]?.args.slice(1) ?? [], env, 'h', 'webhook')
        : config;
      expect(server.webhook).toMatchObject({ port: 9443, certDir: '/etc/aicost/webhook-certs' });
      expect(extra.length > 0 ? config.webhook : undefined).toBeUndefined();
    }
  });

  it('webhook.separateDeployment: a Deployment of its own serves admission (aicost webhook); the operator does not', () => {
    const objs = render('--set', 'webhook.separateDeployment=true', '--set', 'networkPolicy.enabled=true');
    const [operator, webhook] = objs.filter((o) => o.kind === 'Deployment') as Deployment[];
    expect([operator?.metadata.name, webhook?.metadata.name]).toEqual([
      'aicost-aicost-operator',
      'aicost-aicost-operator-webhook',
    ]);
    expect(JSON.stringify(operator)).not.toContain('webhook');
    const container = webhook?.spec.template.spec.containers[0];
    const [command, ...args] = container?.args ?? [];
    expect(command).toBe('webhook');
    const config = parseConfig(args, {}, 'host', 'webhook');
    expect(config).toMatchObject({ role: 'webhook', webhook: { port: 9443, certDir: '/etc/aicost/webhook-certs' } });
    expect(config.leaderElection.enabled).toBe(false);
    expect(webhook?.spec.replicas).toBe(2);
    expect(container?.resources).toEqual({ requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '384Mi' } });
    // Selectors: the webhook Service, PodDisruptionBudget and NetworkPolicy pick the webhook's pods, the
    // operator's pick only the operator's.
    const podsOf = (d: Deployment | undefined) => d?.spec.template.metadata.labels ?? {};
    const picks = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
      Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
    const selectors = objs.map((o) => {
      const spec = (o.spec ?? {}) as {
        selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
        podSelector?: { matchLabels: Record<string, string> };
      };
      const selector =
        o.kind === 'Service' ? spec.selector : (spec.selector?.matchLabels ?? spec.podSelector?.matchLabels);
      return [`${o.kind}/${o.metadata.name}`, selector] as const;
    });
    const picked = (d: Deployment | undefined) =>
      selectors
        .filter(([, s]) => s && picks(s, podsOf(d)))
        .map(([name]) => name)
        .sort();
    expect(picked(webhook)).toEqual([
      'Deployment/aicost-aicost-operator-webhook',
      'NetworkPolicy/aicost-aicost-operator-webhook',
      'PodDisruptionBudget/aicost-aicost-operator-webhook',
      'Service/aicost-aicost-operator-webhook',
    ]);
    expect(picked(operator)).toEqual([
      'Deployment/aicost-aicost-operator',
      'NetworkPolicy/aicost-aicost-operator',
      'PodDisruptionBudget/aicost-aicost-operator',
      'Service/aicost-aicost-operator-metrics',
    ]);
    const ports = (name: string) =>
      (
        find(objs, 'NetworkPolicy', name) as Obj & { spec: { ingress: { ports: { port: number }[] }[] } }
      ).spec.ingress.flatMap((r) => r.ports.map((p) => p.port));
    expect(ports('aicost-aicost-operator')).toEqual([8080, 8081]);
    expect(ports('aicost-aicost-operator-webhook')).toEqual([8080, 8081, 9443]);
  });

  it("the webhook's own ServiceAccount may read what a review needs and record Events: no pods, no Lease, no writes", () => {
    const objs = render('--set', 'webhook.separateDeployment=true');
    const webhook = objs.filter((o) => o.kind === 'Deployment')[1] as Deployment;
    const account = webhook.spec.template.spec.serviceAccountName;
    expect(account).toBe('aicost-aicost-operator-webhook');
    expect(find(objs, 'ServiceAccount', account)).toBeDefined();
    const role = find(objs, 'ClusterRole', 'aicost-aicost-operator-webhook') as Obj & { rules: Rule[] };
    expect(grantsOf(role.rules)).toEqual(
      [
        'core/nodes: list,watch',
        'core/namespaces: list,watch',
        'apps/replicasets: list,watch',
        'apps/deployments: list,watch',
        'apps/statefulsets: list,watch',
        'batch/jobs: list,watch',
        'aicost.dev/aicostpolicies: list,watch',
        'core/events: create,patch',
        'events.k8s.io/events: create,patch',
      ].sort(),
    );
    const bound = (kind: string) =>
      objs
        .filter((o) => o.kind === kind)
        .flatMap((b) =>
          (b as Obj & { subjects: { name: string }[] }).subjects.map((s) => `${b.metadata.name}:${s.name}`),
        );
    expect(bound('ClusterRoleBinding')).toContain(`aicost-aicost-operator-webhook:${account}`);
    expect(bound('ClusterRoleBinding').filter((b) => b.endsWith(`:${account}`))).toHaveLength(1);
    expect(bound('RoleBinding').filter((b) => b.endsWith(`:${account}`))).toEqual([]);
  });

  it.each([
    [1, 500],
    [2, 1500],
    [3, 2000],
    [30, 2000],
  ])(
    'webhook.timeoutSeconds=%i: the webhook reads a request within %i ms, before the API server gives up',
    (seconds, ms) => {
      const d = find(render('--set', `webhook.timeoutSeconds=${String(seconds)}`), 'Deployment') as Obj & {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      };
      const [, ...args] = d.spec.template.spec.containers[0]?.args ?? [];
      expect(parseConfig(args, {}, 'host').webhook?.limits.readTimeoutMs).toBe(ms);
    },
  );

  it('crds.enabled and crds.keep control the CRD; it equals deploy/crds apart from the wrapper', () => {
    const crd = find(render(), 'CustomResourceDefinition');
    expect(crd?.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    const plain = parse(readFileSync(resolve(ROOT, 'deploy/crds/aicost.dev_aicostpolicies.yaml'), 'utf8')) as Obj;
    expect(crd?.spec).toEqual(plain.spec);
    expect(find(render('--set', 'crds.keep=false'), 'CustomResourceDefinition')?.metadata.annotations).toBeUndefined();
    expect(find(render('--set', 'crds.enabled=false'), 'CustomResourceDefinition')).toBeUndefined();
  });

  it('webhook.enabled=false removes the webhook, its Service, Secret, volume and flags', () => {
    const objs = render('--set', 'webhook.enabled=false');
    expect(find(objs, 'MutatingWebhookConfiguration')).toBeUndefined();
    expect(find(objs, 'Secret')).toBeUndefined();
    expect(objs.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual([
      'aicost-aicost-operator-metrics',
    ]);
    expect(JSON.stringify(find(objs, 'Deployment'))).not.toContain('webhook');
  });

  it('the webhook never sees kube-system or the release namespace, and fails closed by default', () => {
    const hook = find(render(), 'MutatingWebhookConfiguration') as Obj & {
      webhooks: {
        failurePolicy: string;
        timeoutSeconds: number;
        namespaceSelector: unknown;
        clientConfig: { caBundle?: string };
      }[];
    };
    expect(hook.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      timeoutSeconds: 3,
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'aicost-system'] },
        ],
      },
    });
    // The generated CA signs the serving certificate in the Secret.
    expect(hook.webhooks[0]?.clientConfig.caBundle?.length ?? 0).toBeGreaterThan(100);
  });
});
