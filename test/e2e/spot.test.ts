/**
 * The spot admission webhook on the real API server, which calls the operator by URL with a CA bundle, and the
 * real scheduler placing the pods on kwok spot and on-demand GPU nodes:
 * - a Job without a checkpoint declaration stays off spot under Enforce; one that selects spot is denied;
 * - under Audit pods are admitted unchanged, with an admission warning and an Event;
 * - a checkpointed Job lands on spot while spot GPUs are free and falls back to on-demand when they are full;
 * - a reclaim taint on a spot node raises an Event with the work at risk;
 * - with the operator stopped, pods are still admitted (failurePolicy Ignore).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cluster,
  kubectlFor,
  createTestNamespace,
  installPolicyCrd,
  podsOf,
  waitFor,
  type PodLike,
} from './support/cluster.ts';
import { fastArgs, type OperatorProcess } from './support/operator.ts';
import { kubectlRunner, registerWebhook, SKIP_WEBHOOK, startWebhookOperator } from './support/webhook.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
const kubectlRun = kubectlRunner(kubeconfig);
const skip = SKIP_WEBHOOK;

const SPOT = [
  ['eks.amazonaws.com/capacityType', 'SPOT'],
  ['lifecycle', 'EC2Spot'],
  ['karpenter.sh/capacity-type', 'spot'],
  ['cloud.google.com/gke-spot', 'true'],
  ['cloud.google.com/gke-preemptible', 'true'],
  ['kubernetes.azure.com/scalesetpriority', 'spot'],
] as const;
const CHECKPOINT = { 'aicost.dev/checkpoint-path': 's3://ckpt/llama', 'aicost.dev/checkpoint-interval': '10m' };

interface NodeLike {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { taints?: { key: string }[] };
  status?: { allocatable?: Record<string, string> };
}
interface PodFull extends PodLike {
  spec: PodLike['spec'] & {
    affinity?: { nodeAffinity?: Record<string, unknown> };
    tolerations?: { key?: string }[];
  };
}

let ns: Awaited<ReturnType<typeof createTestNamespace>>;
let op: OperatorProcess | undefined;
const webhookName = () => `aicost-e2e-${ns.name}`;
const policies: string[] = [];

const isSpot = (labels: Record<string, string> = {}) => SPOT.some(([k, v]) => labels[k] === v);
async function spotNodes(): Promise<Set<string>> {
  const nodes = (await client.list<NodeLike>('/api/v1/nodes')).items;
  return new Set(nodes.filter((n) => isSpot(n.metadata.labels)).map((n) => n.metadata.name));
}

/** GPUs on spot nodes not requested by any pod still bound to them. */
async function freeSpotGpus(): Promise<number> {
  const nodes = (await client.list<NodeLike>('/api/v1/nodes')).items.filter((n) => isSpot(n.metadata.labels));
  const pods = (
    await client.list<{
      spec: { nodeName?: string; containers: { resources?: { limits?: Record<string, string> } }[] };
      status: { phase?: string };
    }>('/api/v1/pods')
  ).items;
  let free = 0;
  for (const n of nodes) {
    const used = pods
      .filter(
        (p) => p.spec.nodeName === n.metadata.name && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed',
      )
      .reduce(
        (sum, p) =>
          sum + p.spec.containers.reduce((s, c) => s + Number(c.resources?.limits?.['nvidia.com/gpu'] ?? 0), 0),
        0,
      );
    free += Math.max(0, Number(n.status?.allocatable?.['nvidia.com/gpu'] ?? 0) - used);
  }
  return free;
}

function applyPolicy(name: string, selector: Record<string, string>, mode: 'Audit' | 'Enforce'): void {
  kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'aicost.dev/v1alpha1',
      kind: 'AICostPolicy',
      metadata: { name },
      spec: {
        mode,
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } },
        selector: { matchLabels: selector },
        rules: { spot: { placement: 'Preferred', maxCheckpointInterval: '30m' } },
      },
    }),
  );
  policies.push(name);
}

async function job(
  name: string,
  workload: string,
  parallelism: number,
  annotations: Record<string, string>,
  nodeSelector?: Record<string, string>,
) {
  await client.create(`/apis/batch/v1/namespaces/${ns.name}/jobs`, {
    metadata: { name, labels: { workload } },
    spec: {
      parallelism,
      completions: parallelism,
      template: {
        metadata: { labels: { workload, app: name }, annotations },
        spec: {
          restartPolicy: 'Never',
          ...(nodeSelector ? { nodeSelector } : {}),
          containers: [
            { name: 'train', image: 'registry.local/train:1', resources: { limits: { 'nvidia.com/gpu': '1' } } },
          ],
        },
      },
    },
  });
}

/** The pods of `app`, once `count` of them are bound to nodes. */
async function boundPods(app: string, count: number): Promise<PodFull[]> {
  return waitFor(
    async () => {
      const pods = (await podsOf(client, ns.name, `app=${app}`)) as PodFull[];
      return pods.filter((p) => p.spec.nodeName).length >= count ? pods : undefined;
    },
    { description: `${String(count)} bound pods of ${app}`, timeoutMs: 60_000 },
  );
}

const events = async (reason: string) =>
  (
    await client.list<{ reason: string; message: string; involvedObject: { kind: string; name: string } }>(
      `/api/v1/namespaces/${ns.name}/events`,
    )
  ).items.filter((e) => e.reason === reason);

const barePod = (name: string, annotations: Record<string, string>, nodeSelector?: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns.name, labels: { workload: 'training', app: name }, annotations },
    spec: {
      ...(nodeSelector ? { nodeSelector } : {}),
      containers: [
        { name: 'train', image: 'registry.local/train:1', resources: { limits: { 'nvidia.com/gpu': '1' } } },
      ],
    },
  });

beforeAll(async () => {
  if (skip) return;
  installPolicyCrd(kubectl);
  ns = await createTestNamespace(client, 'spot');
  const webhook = await startWebhookOperator({
    kubeconfig,
    logDir,
    name: `${ns.name}-0`,
    args: [...fastArgs(prometheusUrl), '--leader-elect', 'false', '--namespace', `${ns.name}-op`],
  });
  op = webhook.op;
  await waitFor(() => op?.logs().some((l) => l.msg === 'caches started'), { description: 'the operator caches' });
  // Only this suite's namespace: other suites never meet the webhook.
  registerWebhook(kubectl, webhookName(), webhook, { matchLabels: { 'kubernetes.io/metadata.name': ns.name } });
  applyPolicy(`spot-enforce-${ns.name}`, { workload: 'training' }, 'Enforce');
  applyPolicy(`spot-audit-${ns.name}`, { workload: 'audit' }, 'Audit');
  // The API server picks up a new webhook configuration and the operator the policies within seconds: wait
  // until a server-side dry run comes back changed.
  await waitFor(
    () => {
      const out = kubectlRun(['create', '--dry-run=server', '-o', 'json', '-f', '-'], barePod('probe', CHECKPOINT));
      return out.status === 0 && out.stdout.includes('aicost.dev/spot-placement');
    },
    { description: 'the webhook to be called by the API server', timeoutMs: 60_000, intervalMs: 1000 },
  );
}, 180_000);

afterAll(async () => {
  if (skip) return;
  kubectlRun(['delete', 'mutatingwebhookconfiguration', webhookName(), '--ignore-not-found']);
  for (const p of policies.splice(0)) kubectlRun(['delete', 'acp', p, '--ignore-not-found']);
  await op?.stop('SIGKILL');
  await ns.remove();
});

describe.skipIf(skip)('spot admission webhook', () => {
  it('Enforce: a Job without a checkpoint declaration is kept off spot nodes', async () => {
    await job('nockpt', 'training', 2, {});
    const pods = await boundPods('nockpt', 2);
    const spot = await spotNodes();
    for (const p of pods) {
      expect(p.metadata.annotations?.['aicost.dev/spot-placement']).toBe('Avoided');
      expect(spot.has(p.spec.nodeName ?? '')).toBe(false);
      expect(JSON.stringify(p.spec.affinity?.nodeAffinity)).toContain('"operator":"NotIn"');
    }
    await waitFor(async () => (await events('SpotAvoided')).find((e) => e.involvedObject.name === 'nockpt'), {
      description: 'a SpotAvoided Event on the Job',
    });
  });

  it('Enforce: a pod that selects spot nodes without a checkpoint is denied, saying what to add', () => {
    const out = kubectlRun(['create', '-f', '-'], barePod('explicit', {}, { 'karpenter.sh/capacity-type': 'spot' }));
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('denied the request');
    expect(out.stderr).toContain('aicost.dev/checkpoint-path');
    expect(out.stderr).toContain('aicost.dev/checkpoint-interval');
  });

  it('Audit: admitted unchanged, with an admission warning and an Event on the Job', async () => {
    const out = kubectlRun(
      ['create', '-f', '-'],
      barePod('audit-bare', {}).replace('"workload":"training"', '"workload":"audit"'),
    );
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/Warning: aicost policy spot-audit-.* allows spot nodes only for pods that checkpoint/);
    await job('auditjob', 'audit', 1, {});
    const [pod] = await boundPods('auditjob', 1);
    expect(pod?.metadata.annotations?.['aicost.dev/spot-placement']).toBeUndefined();
    expect(pod?.spec.affinity).toBeUndefined();
    const audit = await waitFor(
      async () => (await events('SpotAudit')).find((e) => e.involvedObject.name === 'auditjob'),
      {
        description: 'a SpotAudit Event on the Job',
      },
    );
    expect(audit.involvedObject.kind).toBe('Job');
    expect(audit.message).toContain('Enforce would keep it off spot nodes');
  });

  it('Preferred: a checkpointed Job fills the free spot GPUs, then falls back to on-demand', async () => {
    const free = await waitFor(
      async () => {
        const n = await freeSpotGpus();
        return n >= 2 ? n : undefined;
      },
      { description: 'at least two free spot GPUs', timeoutMs: 60_000 },
    );
    const replicas = free + 2;
    await job('ckpt', 'training', replicas, CHECKPOINT);
    const pods = await boundPods('ckpt', replicas);
    const spot = await spotNodes();
    const onSpot = pods.filter((p) => spot.has(p.spec.nodeName ?? ''));
    expect(onSpot).toHaveLength(free);
    expect(pods.length - onSpot.length).toBe(2);
    for (const p of pods) {
      expect(p.metadata.annotations?.['aicost.dev/spot-placement']).toBe('Preferred');
      expect(p.metadata.annotations?.['aicost.dev/checkpoint-path']).toBe('s3://ckpt/llama');
      expect(p.spec.tolerations?.map((t) => t.key)).toContain('kubernetes.azure.com/scalesetpriority');
    }
    // The AKS spot node is tainted: a pod reaches it only with the toleration the webhook added.
    const aks = (await client.list<NodeLike>('/api/v1/nodes')).items.find(
      (n) => n.metadata.labels?.['kubernetes.azure.com/scalesetpriority'] === 'spot',
    );
    if (aks && free >= 4) expect(onSpot.map((p) => p.spec.nodeName)).toContain(aks.metadata.name);
  });

  it("counts the webhook's placements and denials in the policy's status and ACTIONS column, once per Job", async () => {
    const name = `spot-enforce-${ns.name}`;
    type Status = { actionCount?: number; lastActions?: { workload: string; action: string; mode: string }[] };
    const status = await waitFor(
      async () => {
        const s = (await client.get<{ status?: Status }>(`/apis/aicost.dev/v1alpha1/aicostpolicies/${name}`)).status;
        const actions = s?.lastActions?.map((a) => `${a.action} ${a.workload} ${a.mode}`) ?? [];
        return actions.includes(`SpotAvoided Job/${ns.name}/nockpt Enforce`) &&
          actions.includes(`SpotPlacement Job/${ns.name}/ckpt Enforce`) &&
          actions.includes(`SpotDenied Pod/${ns.name}/explicit Enforce`)
          ? s
          : undefined;
      },
      { description: 'SpotAvoided, SpotPlacement and SpotDenied in the policy status', timeoutMs: 60_000 },
    );
    // One entry per Job, however many of its pods were placed; the ACTIONS column counts them.
    expect(status.lastActions?.filter((a) => a.action === 'SpotPlacement' || a.action === 'SpotAvoided')).toHaveLength(
      2,
    );
    const columns = kubectl(['get', 'acp', name, '--no-headers']).trim().split(/\s+/);
    expect(columns.slice(0, 2)).toEqual([name, 'Enforce']);
    expect(Number(columns[3])).toBeGreaterThanOrEqual(3);
    const nockpt = await client.get<{ metadata: { annotations?: Record<string, string> } }>(
      `/apis/batch/v1/namespaces/${ns.name}/jobs/nockpt`,
    );
    expect(nockpt.metadata.annotations?.['aicost.dev/spot-recorded']).toBe(`Avoided by ${name}`);
  });

  it('a reclaim taint on a spot node raises an Event on the Job with the work at risk', async () => {
    const spot = await spotNodes();
    const pods = (await podsOf(client, ns.name, 'app=ckpt')).filter((p) => spot.has(p.spec.nodeName ?? ''));
    const node = pods[0]?.spec.nodeName;
    expect(node).toBeDefined();
    kubectl(['taint', 'nodes', node ?? '', 'karpenter.sh/disrupted=:NoSchedule']);
    try {
      const hit = await waitFor(
        async () => (await events('SpotInterruption')).find((e) => e.involvedObject.name === 'ckpt'),
        { description: 'a SpotInterruption Event on the Job', timeoutMs: 60_000 },
      );
      expect(hit.message).toMatch(
        new RegExp(
          `^spot node ${node ?? ''} is being reclaimed \\(karpenter\\.sh/disrupted\\): pod ckpt-\\S+ risks \\d+\\.\\d\\d GPU-hours \\(\\d+\\.\\d\\d USD\\) of work since it started, no checkpoint reported$`,
        ),
      );
    } finally {
      kubectlRun(['taint', 'nodes', node ?? '', 'karpenter.sh/disrupted:NoSchedule-']);
    }
  });

  it('with the operator stopped, pods are still admitted (failurePolicy Ignore)', async () => {
    await op?.stop('SIGKILL');
    const started = Date.now();
    const out = kubectlRun(['create', '-f', '-'], barePod('after-stop', {}, { 'karpenter.sh/capacity-type': 'spot' }));
    expect(out.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const pod = await client.get<PodFull>(`/api/v1/namespaces/${ns.name}/pods/after-stop`);
    expect(pod.metadata.annotations?.['aicost.dev/spot-placement']).toBeUndefined();
  });
});
