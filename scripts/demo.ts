/**
 * npm run demo: the local GPU cluster, Prometheus and the DCGM simulator; the demo workloads of two teams
 * and example policies; the operator with short windows; and a live table of what each workload costs.
 * Ctrl-C stops the operator and the cluster (logs stay in ~/.cache/aicost/cluster-logs).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeClient } from '../src/controller/kube-client.ts';
import { OperatorProcess } from '../test/e2e/support/operator.ts';

const ROOT = resolve(import.meta.dirname, '..');
const step = (text: string) => console.log(`\n\u001b[1m==> ${text}\u001b[0m`);

step('Starting the local GPU cluster (the first run builds Kubernetes from source: a few minutes)');
const up = execFileSync('bash', [resolve(ROOT, 'test/cluster/up.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const kubeconfig = /KUBECONFIG=(.*)/.exec(up)?.[1] ?? '';
const prometheusUrl = /PROMETHEUS_URL=(.*)/.exec(up)?.[1] ?? '';
const kubectl = (...args: string[]) =>
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

step('Installing the CRD, the demo workloads and the example policies');
kubectl('apply', '--server-side', '-f', resolve(ROOT, 'deploy/crds'));
kubectl('wait', '--for=condition=Established', 'crd/aicostpolicies.aicost.dev', '--timeout=30s');
try {
  kubectl('create', 'namespace', 'aicost-system');
} catch {
  // exists
}
kubectl('apply', '-f', resolve(ROOT, 'deploy/demo/workloads.yaml'));
kubectl('apply', '-f', resolve(ROOT, 'deploy/demo/policies.yaml'));

step('Starting the operator (10 s accounting interval)');
const logDir = resolve(process.env.HOME ?? '/tmp', '.cache/aicost/cluster-logs');
const op = OperatorProcess.start({
  kubeconfig,
  logDir,
  name: 'demo',
  args: [
    '--prometheus-url',
    prometheusUrl,
    '--interval',
    '10s',
    '--annotate-interval',
    '0s',
    '--scrape-interval',
    '5s',
    '--leader-elect',
    'false',
  ],
});
console.log(`operator log: ${op.logFile}`);

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const client = createKubeClient(kc);
interface Obj {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
  };
  spec?: {
    replicas?: number;
    suspend?: boolean;
    containers?: { resources?: { limits?: Record<string, string> } }[];
    template?: { spec?: { containers?: { resources?: { limits?: Record<string, string> } }[] } };
  };
}
const gpusOf = (o: Obj) =>
  (o.spec?.template?.spec?.containers ?? o.spec?.containers ?? []).reduce(
    (s, c) => s + Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0),
    0,
  ) * (o.spec?.replicas ?? 1);

async function table(): Promise<void> {
  const rows: string[][] = [];
  const teams = new Map<string, number>();
  for (const ns of ['research', 'serving', 'serving-dev']) {
    const [jobs, deploys, pods] = await Promise.all([
      client.list<Obj>(`/apis/batch/v1/namespaces/${ns}/jobs`),
      client.list<Obj>(`/apis/apps/v1/namespaces/${ns}/deployments`),
      client.list<Obj>(`/api/v1/namespaces/${ns}/pods`),
    ]);
    const bare = pods.items.filter((p) => !p.metadata.ownerReferences?.length);
    for (const [kind, o] of [
      ...jobs.items.map((j) => ['Job', j] as const),
      ...deploys.items.map((d) => ['Deployment', d] as const),
      ...bare.map((p) => ['Pod', p] as const),
    ]) {
      const a = o.metadata.annotations ?? {};
      const team = o.metadata.labels?.team ?? '-';
      const cost = Number(a['aicost.dev/cost'] ?? 0);
      teams.set(team, (teams.get(team) ?? 0) + cost);
      const action =
        a['aicost.dev/last-action'] ?? (a['aicost.dev/idle-since'] ? `idle since ${a['aicost.dev/idle-since']}` : '');
      rows.push([
        `${kind}/${ns}/${o.metadata.name}`,
        team,
        String(gpusOf(o)),
        a['aicost.dev/gpu-utilization'] ?? '…',
        a['aicost.dev/cost'] ? `$${cost.toFixed(4)}` : '…',
        a['aicost.dev/cost-per-hour'] ? `$${a['aicost.dev/cost-per-hour']}` : '…',
        action.slice(0, 60),
      ]);
    }
  }
  const header = ['WORKLOAD', 'TEAM', 'GPUS', 'UTIL%', 'COST', 'COST/H', 'ACTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  console.clear();
  console.log(
    `aicost-operator demo: ${new Date().toISOString()}  (Ctrl-C to stop; kubectl --kubeconfig ${kubeconfig} get acp)\n`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log('\nSpend by team: ' + [...teams].map(([t, c]) => `${t} $${c.toFixed(4)}`).join(', '));
  const policies = JSON.parse(kubectl('get', 'acp', '-o', 'json')) as {
    items: {
      metadata: { name: string };
      spec: { mode: string };
      status?: { actionCount?: number; estimatedSavingsPerHour?: string; estimatedSavingsPerMonth?: string };
    }[];
  };
  for (const p of policies.items) {
    console.log(
      `Policy ${p.metadata.name} (${p.spec.mode}): ${p.status?.actionCount ?? 0} actions, savings $${p.status?.estimatedSavingsPerHour ?? '0'}/h ($${p.status?.estimatedSavingsPerMonth ?? '0'}/month)`,
    );
  }
}

let stopping = false;
const isStopping = () => stopping;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the operator and the cluster…');
  void op.stop('SIGTERM').then(() => {
    execFileSync('bash', [resolve(ROOT, 'test/cluster/down.sh')], { stdio: 'inherit' });
    process.exit(0);
  });
});
while (!isStopping()) {
  try {
    await table();
  } catch (error) {
    console.error(`(table refresh failed: ${(error as Error).message})`);
  }
  await new Promise((r) => setTimeout(r, 5000));
}
