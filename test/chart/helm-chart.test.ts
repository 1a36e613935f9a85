/**
 * The Helm chart without a cluster: helm lint, helm template snapshots (defaults and every feature on), values
 * rejected by values.schema.json with a message naming the value, and the properties a platform team checks:
 * least-privilege RBAC, the pod's security settings, the CRD switches, the webhook switch.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartValuesSchema } from '../../src/chart/values-schema.ts';
import { parseConfig } from '../../src/config/config.ts';
import { CHART, find, helm, render, ROOT, type Obj } from './helm.ts';

const FULL = resolve(ROOT, 'test/chart/fixtures/helm/full.yaml');

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

interface PodSpec {
  containers: {
    args: string[];
    env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
  volumes: { name: string; projected?: { sources: unknown[] } }[];
}

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

  it('recommendations: the interval, window and empty-node threshold become flags the operator accepts', () => {
    const args = (...set: string[]) => {
      const d = find(render(...set), 'Deployment') as Obj & {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      };
      const [, ...rest] = d.spec.template.spec.containers[0]?.args ?? [];
      return parseConfig(rest, {}, 'host');
    };
    expect(args()).toMatchObject({ recommendIntervalMs: 3_600_000, recommendWindowMs: 86_400_000 });
    const set = ['recommendations.interval=15m', 'recommendations.window=168h', 'recommendations.emptyAfter=4h'];
    expect(args(...set.flatMap((s) => ['--set', s]))).toMatchObject({
      recommendIntervalMs: 900_000,
      recommendWindowMs: 7 * 86_400_000,
      recommendEmptyAfterMs: 4 * 3_600_000,
    });
    expect(args('--set-string', 'recommendations.interval=0').recommendIntervalMs).toBe(0);
  });

  it('prometheus: credentials and TLS files mounted from Secrets and a ConfigMap, flags the operator accepts', () => {
    const d = find(
      render(
        '--set',
        'prometheus.url=https://mimir.example:8443/prometheus',
        '--set',
        'prometheus.headers.X-Scope-OrgID=tenant-a',
        '--set',
        'prometheus.basicAuth.username=aicost',
        '--set',
        'prometheus.basicAuth.passwordSecret=prom-password',
        '--set',
        'prometheus.tls.caConfigMap=prom-ca',
        '--set',
        'prometheus.tls.clientCertSecret=prom-client',
      ),
      'Deployment',
    ) as Obj & { spec: { template: { spec: PodSpec } } };
    const pod = d.spec.template.spec;
    const [, ...args] = pod.containers[0]?.args ?? [];
    expect(parseConfig(args, {}, 'host').prometheus).toEqual({
      url: 'https://mimir.example:8443/prometheus',
      timeoutMs: 10_000,
      auth: { kind: 'basic-file', username: 'aicost', passwordFile: '/etc/aicost/prometheus/password' },
      tls: {
        caFile: '/etc/aicost/prometheus/ca.crt',
        certFile: '/etc/aicost/prometheus/client.crt',
        keyFile: '/etc/aicost/prometheus/client.key',
      },
      headers: [['X-Scope-OrgID', 'tenant-a']],
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({
      name: 'prometheus-credentials',
      mountPath: '/etc/aicost/prometheus',
      readOnly: true,
    });
    expect(pod.volumes.find((v) => v.name === 'prometheus-credentials')?.projected?.sources).toEqual([
      { secret: { name: 'prom-password', items: [{ key: 'password', path: 'password' }] } },
      { configMap: { name: 'prom-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        secret: {
          name: 'prom-client',
          items: [
            { key: 'tls.crt', path: 'client.crt' },
            { key: 'tls.key', path: 'client.key' },
          ],
        },
      },
    ]);
    // Without credentials or TLS files there is no volume.
    const plain = find(render(), 'Deployment') as Obj & { spec: { template: { spec: PodSpec } } };
    expect(plain.spec.template.spec.volumes.map((v) => v.name)).not.toContain('prometheus-credentials');
  });

  it('prometheus.sigv4: Amazon Managed Prometheus, with the credentials from the Secret', () => {
    const d = find(
      render(
        '--set',
        'prometheus.url=https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1',
        '--set',
        'prometheus.sigv4.region=eu-west-1',
        '--set',
        'prometheus.sigv4.credentialsSecret=aicost-aws',
      ),
      'Deployment',
    ) as Obj & { spec: { template: { spec: PodSpec } } };
    const container = d.spec.template.spec.containers[0];
    const [, ...args] = container?.args ?? [];
    // The kubelet resolves the Secret's keys into the environment; here they stand in for it.
    const config = parseConfig(args, { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' }, 'host');
    expect(config.prometheus.auth).toMatchObject({ kind: 'sigv4', region: 'eu-west-1' });
    expect(container?.env.filter((e) => e.valueFrom?.secretKeyRef?.name === 'aicost-aws').map((e) => e.name)).toEqual([
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
    [['--set', 'accounting.idleOwnerLabel=Team Name'], "at '/accounting/idleOwnerLabel'"],
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
    [['--set', 'prometheusRule.for.budget=1h30m'], "at '/prometheusRule/for/budget'"],
    [
      [
        '--set',
        'prometheusRule.enabled=true',
        '--set-json',
        'prometheusRule.budgetLevels=[{"percent":80,"severity":"warning"},{"percent":60,"severity":"info"}]',
      ],
      'prometheusRule.budgetLevels: give the levels in ascending percent',
    ],
    [['--set', 'prometheus.url=http://alice:pw@prom:9090'], "at '/prometheus/url'"],
    [['--set', 'prometheus.headers.X-A=a\tb'], "at '/prometheus/headers/X-A'"],
    [
      [
        '--set',
        'prometheus.basicAuth.username=a',
        '--set',
        'prometheus.basicAuth.passwordSecret=p',
        '--set',
        'prometheus.bearerToken.secret=t',
      ],
      'prometheus: basicAuth and bearerToken are 2 ways to authenticate, give one',
    ],
    [
      ['--set', 'prometheus.basicAuth.username=a'],
      'prometheus.basicAuth.username and prometheus.basicAuth.passwordSecret go together',
    ],
    [['--set', 'prometheus.tls.caSecret=ca'], 'prometheus.tls and prometheus.sigv4 need an https:// prometheus.url'],
    [
      ['--set', 'prometheus.url=https://aps', '--set', 'prometheus.sigv4.region=us-east-1'],
      'prometheus.sigv4.credentialsSecret is required with prometheus.sigv4.region',
    ],
    [
      [
        '--set',
        'prometheus.url=https://aps',
        '--set',
        'prometheus.sigv4.region=us-east-1',
        '--set',
        'prometheus.sigv4.credentialsSecret=a',
        '--set',
        'ledger.s3.bucketUrl=s3://ledger/prod',
        '--set',
        'ledger.s3.credentialsSecret=b',
      ],
      'prometheus.sigv4.credentialsSecret and ledger.s3.credentialsSecret are both read as AWS_*: name the same Secret',
    ],
  ])('rejects %j with a message naming the value', (args, message) => {
    const r = helm(['template', 'aicost', CHART, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain(message);
  });

  it('grants least privilege: exactly the verbs the operator uses, no Secrets, CRDs or webhook configurations', () => {
    const objs = render();
    const role = find(objs, 'ClusterRole', 'aicost-aicost-operator') as Obj & { rules: Rule[] };
    // Every verb here is one the code calls (docs/security.md, "RBAC"): no get where it lists and watches, no
    // update where it patches.
    expect(grantsOf(role.rules)).toEqual(
      [
        'core/nodes: list,watch',
        'core/persistentvolumeclaims: list,watch',
        'storage.k8s.io/storageclasses: list,watch',
        'core/namespaces: get,list,patch,watch',
        'core/pods: list,patch,watch',
        'core/pods/eviction: create',
        'core/events: create,list,patch,watch',
        'apps/deployments: list,patch,watch',
        'apps/statefulsets: list,patch,watch',
        'apps/replicasets: list,watch',
        'apps/deployments/scale: patch',
        'apps/statefulsets/scale: patch',
        'batch/jobs: list,patch,watch',
        'keda.sh/scaledobjects: list,patch',
        'aicost.dev/aicostpolicies: list,watch',
        'aicost.dev/aicostpolicies/status: patch',
        'authentication.k8s.io/tokenreviews: create',
        'authorization.k8s.io/subjectaccessreviews: create',
      ].sort(),
    );
    expect(JSON.stringify(role.rules)).not.toMatch(/secrets|customresourcedefinitions|webhookconfigurations|"\*"/);
    const lease = find(objs, 'Role') as Obj & { rules: { resources: string[]; verbs: string[] }[] };
    expect(lease.metadata.namespace).toBe('aicost-system');
    expect(lease.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
    // Plain metrics review no tokens: the operator needs no review rights then.
    const plain = find(render('--set', 'metrics.secure=false'), 'ClusterRole', 'aicost-aicost-operator');
    expect(JSON.stringify(plain)).not.toMatch(/tokenreviews|subjectaccessreviews/);
  });

  it('metrics.secure (the default): HTTPS behind the API server, a reader role, a ServiceMonitor that authenticates', () => {
    const objs = render('--set', 'serviceMonitor.enabled=true');
    const d = find(objs, 'Deployment') as Obj & {
      spec: { template: { spec: { containers: { args: string[]; ports: { name: string }[] }[] } } };
    };
    const container = d.spec.template.spec.containers[0];
    const [, ...args] = container?.args ?? [];
    expect(parseConfig(args, {}, 'h').metricsSecure).toEqual({ certDir: undefined });
    expect(container?.ports.map((p) => p.name)).toContain('https-metrics');
    expect(find(objs, 'ClusterRole', 'aicost-aicost-operator-metrics-reader')).toMatchObject({
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    });
    expect(find(objs, 'ClusterRoleBinding', 'aicost-aicost-operator-metrics-reader')).toBeUndefined();
    expect(find(objs, 'ServiceMonitor')).toMatchObject({
      spec: {
        endpoints: [
          {
            port: 'https-metrics',
            scheme: 'https',
            bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            tlsConfig: { insecureSkipVerify: true },
          },
        ],
      },
    });
    expect(find(objs, 'Service', 'aicost-aicost-operator-metrics')).toMatchObject({
      spec: { ports: [{ name: 'https-metrics', port: 8080, targetPort: 'https-metrics' }] },
    });
  });

  it('metrics: a certificate Secret, reader subjects, a token Secret and a CA for the ServiceMonitor', () => {
    const objs = render('-f', FULL);
    const d = find(objs, 'Deployment') as Obj & {
      spec: {
        template: {
          spec: {
            containers: { args: string[]; volumeMounts: { name: string; mountPath: string }[] }[];
            volumes: { name: string; secret?: { secretName: string } }[];
          };
        };
      };
    };
    const pod = d.spec.template.spec;
    const [, ...args] = pod.containers[0]?.args ?? [];
    expect(parseConfig(args, {}, 'h').metricsSecure).toEqual({ certDir: '/etc/aicost/metrics-certs' });
    expect(pod.containers[0]?.volumeMounts).toContainEqual(
      expect.objectContaining({ name: 'metrics-certs', mountPath: '/etc/aicost/metrics-certs' }),
    );
    expect(pod.volumes).toContainEqual({ name: 'metrics-certs', secret: { secretName: 'aicost-metrics-cert' } });
    expect(find(objs, 'ClusterRoleBinding', 'aicost-aicost-operator-metrics-reader')).toMatchObject({
      roleRef: { name: 'aicost-aicost-operator-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }],
    });
    const endpoint = (find(objs, 'ServiceMonitor') as Obj & { spec: { endpoints: Record<string, unknown>[] } }).spec
      .endpoints[0];
    expect(endpoint).toMatchObject({
      scheme: 'https',
      authorization: { type: 'Bearer', credentials: { name: 'prometheus-scrape-token', key: 'token' } },
      tlsConfig: { ca: { secret: { name: 'aicost-metrics-cert', key: 'ca.crt' } } },
    });
    expect(endpoint).not.toHaveProperty('bearerTokenFile');
    expect(JSON.stringify(endpoint)).not.toContain('insecureSkipVerify');
  });

  it('metrics.secure=false: plain HTTP, no reader role, a plain ServiceMonitor; a certificate needs secure', () => {
    const objs = render('--set', 'metrics.secure=false', '--set', 'serviceMonitor.enabled=true');
    expect(JSON.stringify(find(objs, 'Deployment'))).not.toContain('--metrics-secure');
    expect(find(objs, 'ClusterRole', 'aicost-aicost-operator-metrics-reader')).toBeUndefined();
    const endpoint = (find(objs, 'ServiceMonitor') as Obj & { spec: { endpoints: Record<string, unknown>[] } }).spec
      .endpoints[0];
    expect(endpoint).toEqual({ port: 'http-metrics', path: '/metrics', interval: '30s' });
    const r = helm(['template', 'aicost', CHART, '--set', 'metrics.secure=false', '--set', 'metrics.certSecret=x']);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('metrics.certSecret needs metrics.secure=true');
  });

  it('prometheusRule: off by default; its labels, routing labels over alertLabels, the stall from the interval', () => {
    expect(find(render(), 'PrometheusRule')).toBeUndefined();
    type Rules = Obj & {
      spec: { groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[] };
    };
    const rule = find(
      render(
        '--set',
        'prometheusRule.enabled=true',
        '--set',
        'prometheusRule.labels.release=kube-prometheus-stack',
        '--set',
        'prometheusRule.alertLabels.severity=low',
        '--set',
        'prometheusRule.alertLabels.cluster=prod-eu',
        '--set',
        'accounting.interval=1m30s',
      ),
      'PrometheusRule',
    ) as Rules;
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const rules = rule.spec.groups.flatMap((g) => g.rules);
    expect(rules.filter((r) => r.alert === 'AICostBudgetSpent').map((r) => [r.expr, r.labels])).toEqual([
      [expect.stringMatching(/>= 0\.6 < 0\.8$/), { severity: 'info', threshold: '60', cluster: 'prod-eu' }],
      [expect.stringMatching(/>= 0\.8 < 0\.95$/), { severity: 'warning', threshold: '80', cluster: 'prod-eu' }],
      [expect.stringMatching(/>= 0\.95 < 1$/), { severity: 'warning', threshold: '95', cluster: 'prod-eu' }],
      [expect.stringMatching(/>= 1$/), { severity: 'critical', threshold: '100', cluster: 'prod-eu' }],
    ]);
    expect(rules.filter((r) => r.labels.severity === 'low' || r.labels.cluster !== 'prod-eu')).toEqual([]);
    // Three intervals of 90 s.
    expect(rules.find((r) => r.alert === 'AICostAccountingStalled')?.expr).toContain('> 270\n');
  });

  it('networkPolicy (on by default): metrics from the monitoring namespace, the webhook from anywhere, no probe port', () => {
    type Policy = Obj & { spec: { ingress: { ports: { port: number }[]; from?: unknown[] }[] } };
    const ingress = (...args: string[]) =>
      (find(render(...args), 'NetworkPolicy') as Policy | undefined)?.spec.ingress.map((rule) => ({
        port: rule.ports.map((p) => p.port).join(','),
        from: rule.from,
      }));
    expect(ingress()).toEqual([
      {
        port: '8080',
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: {} },
        ],
      },
      { port: '9443', from: undefined },
    ]);
    // The full values serve the webhook from a Deployment of its own, whose pods have a NetworkPolicy of their own.
    expect(ingress('-f', FULL)?.map((r) => r.port)).toEqual(['8080', '8081']);
    expect(ingress('--set', 'webhook.enabled=false')?.map((r) => r.port)).toEqual(['8080']);
    expect(ingress('--set', 'networkPolicy.enabled=false')).toBeUndefined();
  });

  it("operatorWritesPolicy (on by default): a ValidatingAdmissionPolicy on the operator's own updates", () => {
    const objs = render();
    const policy = find(objs, 'ValidatingAdmissionPolicy', 'aicost-aicost-operator-operator-writes') as Obj & {
      spec: {
        failurePolicy: string;
        matchConstraints: { resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[] };
        matchConditions: { expression: string }[];
      };
    };
    expect(policy.spec.failurePolicy).toBe('Fail');
    expect(policy.spec.matchConditions).toEqual([
      {
        name: 'operator',
        expression: "request.userInfo.username == 'system:serviceaccount:aicost-system:aicost-aicost-operator'",
      },
    ]);
    // Exactly the kinds the operator's RBAC lets it patch (the scale subresource aside: a Scale has only replicas).
    const matched = policy.spec.matchConstraints.resourceRules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.map((res) => `${g || 'core'}/${res} ${r.operations.join(',')}`)),
    );
    expect(matched.sort()).toEqual(
      [
        'core/pods UPDATE',
        'core/namespaces UPDATE',
        'apps/deployments UPDATE',
        'apps/statefulsets UPDATE',
        'batch/jobs UPDATE',
        'keda.sh/scaledobjects UPDATE',
      ].sort(),
    );
    expect(find(objs, 'ValidatingAdmissionPolicyBinding', 'aicost-aicost-operator-operator-writes')).toMatchObject({
      spec: { policyName: 'aicost-aicost-operator-operator-writes', validationActions: ['Deny'] },
    });
    const off = render('--set', 'operatorWritesPolicy.enabled=false');
    expect(off.filter((o) => o.metadata.name.endsWith('operator-writes'))).toEqual([]);
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
      // accounting.accountNodes reaches --account-nodes whole, spaces, parentheses and '!' included.
      expect(config.accountNodes).toEqual(
        extra.length > 0
          ? {
              matchExpressions: [
                { key: 'karpenter.sh/nodepool', operator: 'In', values: ['gpu', 'etl'] },
                { key: 'aicost.dev/skip', operator: 'DoesNotExist' },
              ],
            }
          : undefined,
      );
    }
  });

  it('webhook.separateDeployment: a Deployment of its own serves admission (aicost webhook); the operator does not', () => {
    const objs = render('--set', 'webhook.separateDeployment=true');
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
    expect(ports('aicost-aicost-operator')).toEqual([8080]);
    expect(ports('aicost-aicost-operator-webhook')).toEqual([8080, 9443]);
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
        // Its /metrics is secure (metrics.secure, the default) as the operator's.
        'authentication.k8s.io/tokenreviews: create',
        'authorization.k8s.io/subjectaccessreviews: create',
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
