/**
 * Issue #18: every node is accounted (CPU-only nodes too), with the same ledger rows as a GPU node's, unless
 * --account-nodes narrows it; against the in-memory API, through the operator's graph.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { parseNodeSelector } from '../config/node-selector.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { allRows, HOUR_MS, prometheus, seed, T0 } from '../testing/ledger-world.ts';

/** Two CPU-only m6i.2xlarge nodes (resource rates: 0.3872 $/h), pool=etl and pool=web, with a pod each. */
function putCpuWork(api: FakeKube): void {
  for (const pool of ['etl', 'web'])
    api.put('/api/v1/nodes', {
      metadata: {
        name: `${pool}-node`,
        uid: `${pool}-node-uid`,
        labels: { 'node.kubernetes.io/instance-type': 'm6i.2xlarge', pool },
      },
      status: { allocatable: { cpu: '8', memory: '32Gi' } },
    });
  api.put('/apis/batch/v1/namespaces/ml/jobs', { metadata: { name: 'prep', namespace: 'ml', uid: 'prep-uid' } });
  const pod = (name: string, node: string, owner?: { kind: string; name: string }) =>
    api.put('/api/v1/namespaces/ml/pods', {
      metadata: {
        name,
        namespace: 'ml',
        uid: `${name}-uid`,
        ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
      },
      spec: { nodeName: node, containers: [{ resources: { requests: { cpu: '2', memory: '8Gi' } } }] },
      status: { phase: 'Running', startTime: new Date(T0).toISOString() },
    });
  pod('prep-0', 'etl-node', { kind: 'Job', name: 'prep' });
  pod('api-0', 'web-node');
}

/**
 * The first window's rows (written whole after 70 one-minute cycles), by "Kind/name", and the nodes the cost
 * metric names.
 */
async function firstWindow(accountNodes?: string): Promise<Map<string, LedgerRow> & { metricNodes: string[] }> {
  const api = new FakeKube();
  seed(api);
  putCpuWork(api);
  const sink = new MemorySink();
  const clock = new FakeClock(T0 + 25_000);
  const selector = accountNodes === undefined ? undefined : parseNodeSelector(accountNodes);
  if (selector && 'problems' in selector) throw new Error(selector.problems.join('; '));
  const op = await startOperator(
    api,
    clock,
    prometheus(),
    ['team'],
    'Audit',
    undefined,
    { sink },
    {
      accountNodes: selector?.selector,
    },
  );
  for (let minute = 0; minute < 70; minute++) {
    await clock.advance(59_000);
    await op.cycle();
  }
  const text = await op.metrics.registry.getSingleMetricAsString('aicost_node_cost_total');
  const metricNodes = [...text.matchAll(/node="([^"]+)"/g)].map((m) => m[1] ?? '').sort();
  await op.stop();
  const rows = (await allRows(sink)).filter((r) => r.windowStartMs === T0 && r.windowEndMs === T0 + HOUR_MS);
  return Object.assign(new Map(rows.map((r) => [`${r.workloadKind}/${r.workloadName}`, r])), { metricNodes });
}

describe('every node accounted', () => {
  it('gives CPU work on CPU-only nodes its rows, and each CPU node an idle row, conserving its cost', async () => {
    const rows = await firstWindow();
    const compute = (id: string) => rows.get(id)?.compute;
    expect(
      ['Job/train', 'Pod/notebook', 'Node/gpu-1', 'Job/prep', 'Pod/api-0', 'Node/etl-node', 'Node/web-node'].map(
        compute,
      ),
    ).toEqual(['gpu', 'gpu', 'gpu', 'cpu', 'cpu', 'cpu', 'cpu']);
    const prep = rows.get('Job/prep');
    const etlIdle = rows.get('Node/etl-node');
    expect(prep).toMatchObject({ gpuHours: 0n, idleGpuHours: 0n, utilization: null, team: 'research' });
    expect(etlIdle).toMatchObject({ gpuHours: 0n, idleGpuHours: 0n, instanceType: 'm6i.2xlarge', gpuModel: '' });
    // The same pods on nodes of the same type and price cost the same, whether in a Job or bare...
    const total = (pod: string, node: string) => (rows.get(pod)?.cost ?? -1n) + (rows.get(node)?.cost ?? -1n);
    expect(total('Job/prep', 'Node/etl-node')).toBe(total('Pod/api-0', 'Node/web-node'));
    // ...a quarter of the node for the hour (2 of 8 vCPU, 8 of 32 GiB): 0.0968, less what rounding each of the
    // 60 cycles' node cost to the nano-unit takes off (0.3872 × 60 / 3600 = 0.006453333…, a third of a nano).
    expect(prep?.cost).toBe(96_799_980n);
    // The metrics count them as they count a GPU node.
    expect(rows.metricNodes).toEqual(['etl-node', 'gpu-1', 'web-node']);
  });

  it('--account-nodes leaves out the nodes it does not select, and their pods', async () => {
    const rows = await firstWindow('pool!=web');
    expect([...rows.keys()].sort()).toEqual([
      'Deployment/web',
      'Job/prep',
      'Job/train',
      'Node/etl-node',
      'Node/gpu-1',
      'Pod/notebook',
    ]);
    expect(rows.metricNodes).toEqual(['etl-node', 'gpu-1']);
  });
});
