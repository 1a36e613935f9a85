/**
 * npm run demo: the local GPU cluster, Prometheus and the DCGM simulator; the operator with short windows and
 * its spot webhook (registered by URL, as a chart would register its Service); example policies; the demo
 * workloads of two teams; and a live table of what each workload costs, with the spend by team (and by no one:
 * the GPU capacity nobody requested) and the savings the policies made or would make. Ctrl-C stops the operator and the cluster (logs stay in
 * ~/.cache/aicost/cluster-logs).
 *
 * `npm run demo -- --once` waits until every workload has a cost, prints the table once, removes the demo's
 * objects and leaves the cluster up (the e2e suite runs it that way).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { createKubeClient } from '../src/controller/kube-client.ts';
import { formatMoney, parseMoney } from '../src/cost/money.ts';
import { IDLE } from '../src/cost/rollup.ts';
import { OperatorProcess } from '../test/e2e/support/operator.ts';

const ROOT = resolve(import.meta.dirname, '..');
const once = process.argv.includes('--once');
const step = (text: string) => {
  console.log(`\n\u001b[1m==> ${text}\u001b[0m`);
};
const cacheDir = resolve(process.env.HOME ?? '/tmp', '.cache/aicost');
const WEBHOOK = 'aicost-demo';
const NAMESPACES = ['research', 'serving', 'serving-dev'];

step('Starting the local GPU cluster (the first run builds Kubernetes from source: a few minutes)');
const up = execFileSync('bash', [resolve(ROOT, 'test/cluster/up.sh')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const kubeconfig = /KUBECONFIG=(.*)/.exec(up)?.[1] ?? '';
const prometheusUrl = /PROMETHEUS_URL=(.*)/.exec(up)?.[1] ?? '';
const kubectl = (args: string[], input?: string) =>
  execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'inherit'],
  });

step('Installing the CRD, the namespaces of two teams and the example policies');
kubectl(['apply', '--server-side', '-f', resolve(ROOT, 'deploy/crds')]);
kubectl(['wait', '--for=condition=Established', 'crd/aicostpolicies.aicost.dev', '--timeout=30s']);
const docs = parseAllDocuments(readFileSync(resolve(ROOT, 'deploy/demo/workloads.yaml'), 'utf8')).map(
  (d) => d.toJS() as { kind: string },
);
const yamlOf = (items: unknown[]) => items.map((d) => stringify(d)).join('---\n');
kubectl(['apply', '-f', '-'], yamlOf(docs.filter((d) => d.kind === 'Namespace')));
kubectl(['apply', '-f', resolve(ROOT, 'deploy/demo/policies.yaml')]);

step('Starting the operator (10 s accounting interval) and its spot admission webhook');
const certDir = join(cacheDir, 'demo-webhook');
mkdirSync(certDir, { recursive: true });
// A fresh ledger per demo: the cluster is new each time, and so is its id.
const ledgerDir = join(cacheDir, 'demo-ledger');
rmSync(ledgerDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [resolve(ROOT, 'src/main.ts'), 'webhook-cert', '--dir', certDir, '--hosts', '127.0.0.1'],
  {
    stdio: 'ignore',
  },
);
const port = await new Promise<number>((resolvePort) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => {
      resolvePort(typeof address === 'object' && address ? address.port : 0);
    });
  });
});
const op = OperatorProcess.start({
  kubeconfig,
  logDir: join(cacheDir, 'cluster-logs'),
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
    '--pricing-file',
    resolve(ROOT, 'deploy/demo/pricing.yaml'),
    '--webhook-port',
    String(port),
    '--webhook-cert-dir',
    certDir,
    '--ledger',
    ledgerDir,
    // Every cycle: the report below reads the open window as the table above shows it.
    '--ledger-flush-interval',
    '0s',
  ],
});
console.log(`operator log: ${op.logFile}`);
kubectl(
  ['apply', '-f', '-'],
  JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: WEBHOOK },
    webhooks: [
      {
        name: 'spot.pods.aicost.dev',
        clientConfig: {
          url: `https://127.0.0.1:${String(port)}/mutate-v1-pod`,
          caBundle: readFileSync(join(certDir, 'ca.crt')).toString('base64'),
        },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        failurePolicy: 'Ignore',
        timeoutSeconds: 3,
        sideEffects: 'NoneOnDryRun',
        admissionReviewVersions: ['v1'],
        namespaceSelector: {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: NAMESPACES }],
        },
      },
    ],
  }),
);
// Wait until the API server calls the webhook and the operator knows the policies: a server-side dry run of a
// checkpointed training pod comes back steered to spot.
const probe = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'probe',
    namespace: 'research',
    labels: { experiment: 'probe' },
    annotations: { 'aicost.dev/checkpoint-path': '/ckpt', 'aicost.dev/checkpoint-interval': '10m' },
  },
  spec: { containers: [{ name: 'c', image: 'registry.local/x:1' }] },
});
for (let i = 0; ; i++) {
  const out = spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'create', '--dry-run=server', '-o', 'json', '-f', '-'],
    {
      input: probe,
      encoding: 'utf8',
    },
  );
  if (out.status === 0 && out.stdout.includes('aicost.dev/spot-placement')) break;
  if (i === 60) throw new Error(`the webhook is not answering; see ${op.logFile}`);
  await new Promise((r) => setTimeout(r, 1000));
}

step('Deploying the workloads: training Jobs, a production endpoint, a dev endpoint, a forgotten notebook');
kubectl(['apply', '-f', '-'], yamlOf(docs.filter((d) => d.kind !== 'Namespace')));

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

/** Prints the table; returns true once every workload has a cost. */
async function table(): Promise<boolean> {
  const rows: string[][] = [];
  let complete = true;
  for (const ns of NAMESPACES) {
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
      const cost = a['aicost.dev/cost'];
      complete &&= cost !== undefined;
      const placements = new Set(
        pods.items
          .filter((p) => p.metadata.labels?.['job-name'] === o.metadata.name)
          .map((p) => p.metadata.annotations?.['aicost.dev/spot-placement'])
          .filter(Boolean),
      );
      const spot = a['aicost.dev/spot-savings']
        ? `on spot, saved $${Number(a['aicost.dev/spot-savings']).toFixed(4)}`
        : placements.has('Avoided')
          ? 'kept off spot (no checkpoints)'
          : '';
      const action =
        a['aicost.dev/last-action'] ?? (a['aicost.dev/idle-since'] ? `idle since ${a['aicost.dev/idle-since']}` : spot);
      rows.push([
        `${kind}/${ns}/${o.metadata.name}`,
        team,
        String(gpusOf(o)),
        a['aicost.dev/gpu-utilization'] ?? '…',
        cost ? `$${formatMoney(parseMoney(cost), 4)}` : '…',
        a['aicost.dev/cost-per-hour'] ? `$${a['aicost.dev/cost-per-hour']}` : '…',
        action.slice(0, 64),
      ]);
    }
  }
  const header = ['WORKLOAD', 'TEAM', 'GPUS', 'UTIL%', 'COST', 'COST/H', 'ACTION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
  if (!once) console.clear();
  console.log(
    `aicost-operator demo: ${new Date().toISOString()}  (${once ? 'once' : 'Ctrl-C to stop'}; kubectl --kubeconfig ${kubeconfig} get acp)\n`,
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(`\n${await spendByTeam()}`);
  console.log(`\n${ledgerReport()}\n`);
  const policies = JSON.parse(kubectl(['get', 'acp', '-o', 'json'])) as {
    items: {
      metadata: { name: string };
      spec: { mode?: string };
      status?: {
        mode?: string;
        actionCount?: number;
        realizedSavingsPerHour?: string;
        realizedSavingsPerMonth?: string;
        estimatedSavingsPerHour?: string;
        estimatedSavingsPerMonth?: string;
      };
    }[];
  };
  for (const p of policies.items) {
    // Realized: what the workloads it holds off would cost awake; would-be: Audit's records, spot forgone.
    const s = p.status;
    console.log(
      `Policy ${p.metadata.name} (${s?.mode ?? p.spec.mode ?? 'Audit'}): ${String(s?.actionCount ?? 0)} actions, saving $${s?.realizedSavingsPerHour ?? '0'}/h ($${s?.realizedSavingsPerMonth ?? '0'}/month), would-be $${s?.estimatedSavingsPerHour ?? '0'}/h ($${s?.estimatedSavingsPerMonth ?? '0'}/month)`,
    );
  }
  return complete && rows.length > 0;
}

/**
 * Spend by team as the operator rolls it up, from its /metrics: aicost_cost_by_labels_total summed over the
 * other label keys (a pod's team label, else its workload's, else its namespace's), with its __idle__ row, the
 * capacity of the accounted nodes (GPU and CPU-only) that no pod requested. So the teams and __idle__ add up to
 * the nodes' cost,
 * aicost_node_cost_total, shown after them. Both count from the operator's start.
 */
async function spendByTeam(): Promise<string> {
  // Counters are floats; they are summed in nano-units.
  const nanos = (line: string) => BigInt(Math.round(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1e9));
  const teams = new Map<string, bigint>();
  let nodes = 0n;
  for (const line of (await op.metrics()).split('\n')) {
    if (line.startsWith('aicost_cost_by_labels_total{')) {
      const team = /label_team="([^"]*)"/.exec(line)?.[1] ?? '-';
      teams.set(team, (teams.get(team) ?? 0n) + nanos(line));
    } else if (line.startsWith('aicost_node_cost_total{')) nodes += nanos(line);
  }
  const order = [...teams.keys()].sort((a, b) => Number(a === IDLE) - Number(b === IDLE) || a.localeCompare(b));
  const rows = order.map((t) => `${t} $${formatMoney(teams.get(t) ?? 0n, 4)}`);
  return `Spend by team: ${rows.join(', ')} (nodes $${formatMoney(nodes, 4)})`;
}

/** The same spend from the durable ledger, as a finance or platform team would ask for it. */
function ledgerReport(): string {
  const args = ['report', '--by', 'team', '--ledger', ledgerDir, '--format', 'table'];
  const r = spawnSync(process.execPath, [resolve(ROOT, 'src/main.ts'), ...args], { encoding: 'utf8' });
  const heading = `From the ledger (aicost ${args.join(' ')}):`;
  return r.status === 0 ? `${heading}\n${r.stdout.trimEnd()}` : `${heading} ${r.stderr.trim()}`;
}

function removeDemo(): void {
  spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'delete', 'mutatingwebhookconfiguration', WEBHOOK, '--ignore-not-found'],
    {
      stdio: 'ignore',
    },
  );
  spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'delete', '-f', resolve(ROOT, 'deploy/demo/policies.yaml'), '--ignore-not-found'],
    {
      stdio: 'ignore',
    },
  );
  spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'delete', 'namespace', ...NAMESPACES, '--ignore-not-found', '--wait=false'],
    {
      stdio: 'ignore',
    },
  );
}

if (once) {
  const deadline = Date.now() + 180_000;
  let complete = false;
  while (!complete && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5000));
    complete = await table().catch(() => false);
  }
  await op.stop('SIGTERM');
  removeDemo();
  if (!complete) {
    console.error(`not every workload got a cost within 3 minutes; see ${op.logFile}`);
    process.exit(1);
  }
  process.exit(0);
}

let stopping = false;
const isStopping = () => stopping;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the operator and the cluster…');
  void op.stop('SIGTERM').then(() => {
    removeDemo();
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
