/**
 * Recommendations in the operator on the local cluster (issue #17; docs/unit-economics.md#in-the-operator), in
 * numbered steps:
 *
 * 1. An over-provisioned endpoint: a Deployment of one pod holding one A100 of a p4d.24xlarge (kwok), which the
 *    DCGM simulator shows 10 % busy with 6 GiB (6144 MiB) of its 40 GiB used. And an empty GPU node: a kwok
 *    g5.xlarge made for this test, tainted so that no pod lands on it.
 * 2. The operator, with one-minute ledger windows, a two-minute --recommend-window, --recommend-empty-after 2m and
 *    a run every 10 s, plus a policy with rules.recommendations selecting the endpoint.
 * 3. The endpoint gets a `Recommendation` Event (right-size to a g4dn.xlarge) and the gauge, with the saving of
 *    the hand computation: the pod costs the p4d's GPU price, 1.76070525 $ an hour (docs/cost-model.md); a
 *    g4dn.xlarge, whose T4's 16 GiB hold 6144 MiB with 25 % headroom (7680 MiB), costs 0.526 $ an hour, the
 *    cheapest that does; so the saving is (1.76070525 − 0.526) × 730 = 901.3348325 $ a month.
 *    The policy's status.recommendations counts it.
 * 4. The empty node gets a `Recommendation` Event (empty-node) on the Node and the gauge: its whole price,
 *    1.006 $ an hour, × 730 = 734.38 $ a month.
 * 5. Nothing was changed: the endpoint still has its one replica, the node is still there and schedulable.
 *
 * Tolerances: the ledger's window costs are sums of cycles rounded to the nano (hand-cost.ts), and the cost per
 * hour is the window's cost × 30 (two one-minute windows), so the monthly saving is within 0.05 $ of the hand
 * figure. The Event's message rounds it to the cent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeObject } from '../cluster/profile.ts';
import {
  cluster,
  createTestNamespace,
  installPolicyCrd,
  kubectlFor,
  waitFor,
  type TestNamespace,
} from './support/cluster.ts';
import { gpuDeployment } from './support/hand-cost.ts';
import { fastArgs, metricValue, OperatorProcess } from './support/operator.ts';

const { client, kubeconfig, prometheusUrl, logDir } = cluster();
const kubectl = kubectlFor(kubeconfig);
const RIGHT_SIZE_SAVING = 901.3348325;
const EMPTY_NODE_SAVING = 734.38;
const TOLERANCE = 0.05;
const TAINT = { key: 'aicost.dev/e2e-empty-node', value: 'true', effect: 'NoSchedule' } as const;

interface EventLike {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

let ns: TestNamespace;
let ledgerDir: string;
let nodeName = '';
let operator: OperatorProcess | undefined;

beforeEach(async () => {
  ns = await createTestNamespace(client, 'recommend');
  ledgerDir = mkdtempSync(join(tmpdir(), 'aicost-recommend-e2e-'));
  nodeName = `${ns.name}-empty`;
});
afterEach(async () => {
  await operator?.stop('SIGKILL');
  operator = undefined;
  await client.delete(`/apis/aicost.dev/v1alpha1/aicostpolicies/${ns.name}`).catch(() => undefined);
  await client.delete(`/api/v1/nodes/${nodeName}`).catch(() => undefined);
  await ns.remove();
  rmSync(ledgerDir, { recursive: true, force: true });
});

/** A kwok g5.xlarge (one A10G) that no pod tolerates: it stays empty. */
async function emptyGpuNode(): Promise<void> {
  const node = nodeObject({
    name: nodeName,
    instanceType: 'g5.xlarge',
    region: 'us-east-1',
    zone: 'us-east-1a',
    capacityType: 'on-demand',
    capacityLabelStyle: 'eks',
    gpu: { product: 'NVIDIA-A10G', count: 1, memoryMiB: 23028 },
    cpu: '4',
    memory: '16Gi',
    taints: [TAINT],
  });
  await client.create('/api/v1/nodes', node);
  await client.patch(
    `/api/v1/nodes/${nodeName}/status`,
    { status: { capacity: node.status.capacity, allocatable: node.status.allocatable } },
    'merge',
  );
}

async function eventsOf(namespace: string, kind: string, name: string): Promise<EventLike[]> {
  const list = await client.list<EventLike>(`/api/v1/namespaces/${namespace}/events`);
  return list.items.filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name);
}

function near(actual: number | undefined, expected: number): boolean {
  return actual !== undefined && Math.abs(actual - expected) <= TOLERANCE;
}

describe('recommendations in the operator on the local cluster', () => {
  it('recommends right-sizing an over-provisioned A100 endpoint and flags an empty GPU node, as by hand', async (ctx) => {
    if (!prometheusUrl) ctx.skip();
    installPolicyCrd(kubectl);
    // 1. The endpoint and the empty node.
    await gpuDeployment(client, ns.name, 'chat', {
      gpus: 1,
      utilization: '10',
      annotations: { 'dcgm-sim.aicost.dev/memory-used-mib': '6144' },
    });
    await emptyGpuNode();

    // 2. The policy that asks for a summary, and the operator.
    await client.create('/apis/aicost.dev/v1alpha1/aicostpolicies', {
      apiVersion: 'aicost.dev/v1alpha1',
      kind: 'AICostPolicy',
      metadata: { name: ns.name },
      spec: {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } },
        rules: { recommendations: { top: 3 } },
      },
    });
    const op = OperatorProcess.start({
      kubeconfig,
      logDir,
      name: `${ns.name}-op`,
      args: [
        ...fastArgs(prometheusUrl),
        ...['--interval', '2s', '--namespace', `${ns.name}-op`],
        ...['--ledger', join(ledgerDir, 'ledger'), '--ledger-window', '1m', '--ledger-flush-interval', '0s'],
        ...['--recommend-interval', '10s', '--recommend-window', '2m', '--recommend-empty-after', '2m'],
      ],
    });
    operator = op;

    // 3. The endpoint: its Event and its series, at the hand computation's saving. The pod must have run two whole
    // ledger windows, and the last of them be written whole: about four minutes.
    const chat = await waitFor(
      async () => (await eventsOf(ns.name, 'Deployment', 'chat')).find((e) => e.reason === 'Recommendation'),
      { description: "chat's right-size Recommendation Event", timeoutMs: 360_000, intervalMs: 2000 },
    );
    expect(chat.message).toMatch(/^right-size to g4dn\.xlarge: saves 901\.3[0-9] USD a month \(confidence medium\): /);
    expect(chat.message).toContain('using 6144 MiB of 40960 MiB');
    const labels = { type: 'right-size', namespace: ns.name, target: 'Deployment/chat', currency: 'USD' };
    const gauge = await waitFor(
      async () => {
        const v = metricValue(await op.metrics(), 'aicost_recommendation_monthly_saving', labels);
        return near(v, RIGHT_SIZE_SAVING) ? v : undefined;
      },
      { description: 'the right-size gauge at the hand computation', timeoutMs: 30_000, intervalMs: 2000 },
    );
    expect(Math.abs(gauge - RIGHT_SIZE_SAVING)).toBeLessThanOrEqual(TOLERANCE);
    const status = await waitFor(
      async () => {
        const p = await client.get<{ status?: { recommendations?: { count: number; byType: { type: string }[] } } }>(
          `/apis/aicost.dev/v1alpha1/aicostpolicies/${ns.name}`,
        );
        return p.status?.recommendations?.count === 1 ? p.status.recommendations : undefined;
      },
      { description: "the policy's status.recommendations", timeoutMs: 30_000 },
    );
    expect(status.byType.map((t) => t.type)).toEqual(['right-size']);

    // 4. The empty node: its Event (Node Events are in `default`) and its series.
    const empty = await waitFor(
      async () => (await eventsOf('default', 'Node', nodeName)).find((e) => e.reason === 'Recommendation'),
      { description: "the empty node's Recommendation Event", timeoutMs: 240_000, intervalMs: 2000 },
    );
    expect(empty.message).toMatch(/^empty-node: saves 734\.3[0-9] USD a month \(confidence high\): no pod requested/);
    const nodeSaving = metricValue(await op.metrics(), 'aicost_recommendation_monthly_saving', {
      type: 'empty-node',
      target: `Node/${nodeName}`,
    });
    expect(near(nodeSaving, EMPTY_NODE_SAVING), `empty-node gauge ${String(nodeSaving)}`).toBe(true);

    // 5. Nothing changed, and no Event repeated while nothing changed.
    const d = await client.get<{ spec: { replicas?: number } }>(`/apis/apps/v1/namespaces/${ns.name}/deployments/chat`);
    expect(d.spec.replicas).toBe(1);
    const node = await client.get<{ spec: { unschedulable?: boolean } }>(`/api/v1/nodes/${nodeName}`);
    expect(node.spec.unschedulable).toBeUndefined();
    await new Promise((r) => setTimeout(r, 25_000));
    const again = (await eventsOf(ns.name, 'Deployment', 'chat')).filter((e) => e.reason.startsWith('Recommendation'));
    expect(again.map((e) => e.reason)).toEqual(['Recommendation']);
  }, 720_000);
});
