/**
 * A bad object costs only itself (issue #19): nodes the engine cannot account, or priced beyond reason, among
 * good ones, against the in-memory API. The good objects' ledgers, annotations and ledger rows must be exactly
 * what they are without the bad ones; the bad ones say why, once, on the object and in a metric.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { allRows, prometheus, seed, T0 } from '../testing/ledger-world.ts';

/**
 * A GPU node `name` with an allocatable of its own and a price by annotation, and a bare 1-GPU pod on it in
 * namespace lab (the namespace ml is the good objects': a pod on an unpriced node still adds its GPU time).
 */
function putBadNode(api: FakeKube, name: string, allocatable: Record<string, string>, price = '10'): void {
  api.put('/api/v1/nodes', {
    metadata: {
      name,
      uid: `${name}-uid`,
      annotations: { 'aicost.dev/price-per-hour': price },
      labels: { 'node.kubernetes.io/instance-type': 'custom' },
    },
    status: { allocatable: { cpu: '64', memory: '512Gi', 'nvidia.com/gpu': '8', ...allocatable } },
  });
  api.put('/api/v1/namespaces/lab/pods', {
    metadata: { name: `on-${name}`, namespace: 'lab', uid: `on-${name}-uid` },
    spec: { nodeName: name, containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(T0).toISOString() },
  });
}

/** A bare pod on the good node, in lab, whose own memory request cannot be read exactly. */
function putBadPod(api: FakeKube): void {
  api.put('/api/v1/namespaces/lab/pods', {
    metadata: { name: 'huge-request', namespace: 'lab', uid: 'huge-request-uid' },
    spec: {
      nodeName: 'gpu-1',
      containers: [{ resources: { requests: { memory: '1e30' }, limits: { 'nvidia.com/gpu': '1' } } }],
    },
    status: { phase: 'Running', startTime: new Date(T0).toISOString() },
  });
}

const GOOD_TARGETS = ['Job/train', 'Deployment/web', 'Pod/notebook', 'Node/gpu-1'];

/** Runs the seeded world, with `extra` objects, for 70 minutes (a window written whole), a cycle a minute. */
async function run(extra: (api: FakeKube) => void) {
  const api = new FakeKube();
  seed(api);
  extra(api);
  const sink = new MemorySink();
  const clock = new FakeClock(T0 + 25_000);
  const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink });
  for (let minute = 0; minute < 70; minute++) {
    await clock.advance(59_000);
    await op.cycle();
  }
  await op.stop();
  const { pods, workloads, namespaces } = op.accountant.cumulative;
  const rows = (await allRows(sink)).filter((r) => GOOD_TARGETS.includes(`${r.workloadKind}/${r.workloadName}`));
  return {
    api,
    op,
    good: {
      ledgers: [
        pods.get('train-0-uid'),
        pods.get('web-1-a-uid'),
        pods.get('notebook-uid'),
        workloads.get('Job/ml/train'),
        workloads.get('Deployment/ml/web'),
        namespaces.get('ml'),
      ],
      annotations: ['/api/v1/namespaces/ml/pods/notebook', '/apis/batch/v1/namespaces/ml/jobs/train'].map(
        (path) => api.object(path)?.metadata.annotations,
      ),
      rows: rows.map(comparable).sort((a, b) => a.localeCompare(b)),
    },
  };
}

/** A row's figures and identity, as text (the node's pod count differs: the bad pod was on it). */
function comparable(r: LedgerRow): string {
  const { podCount: _podCount, ...rest } = r;
  return JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

const events = (api: FakeKube, namespace: string) =>
  api
    .objectsUnder(`/api/v1/namespaces/${namespace}/events/`)
    .map((e) => {
      const about = e.involvedObject as { kind: string; name: string };
      return [about.kind, about.name, e.reason, e.message];
    })
    .sort((a, b) => String(a[1]).localeCompare(String(b[1])));

describe('a bad node or pod among good ones', () => {
  it('costs only itself: the good ones are accounted exactly as without it, and it says why once', async () => {
    const alone = await run(() => undefined);
    const withBad = await run((api) => {
      api.put('/api/v1/namespaces', { metadata: { name: 'lab' } });
      putBadNode(api, 'bad-cpu', { cpu: '1000000000' }); // 10^9 cores: past the limits, the engine's throw before
      putBadNode(api, 'bad-memory', { memory: '1e30' }); // past exact integers
      putBadNode(api, 'huge-price', {}, '999999999999999'); // 10^15 an hour: the ledger could not write it
      putBadPod(api);
    });
    expect(withBad.good).toEqual(alone.good);
    expect(alone.good.rows).toHaveLength(8); // 4 targets, in the window written whole and the open one
    expect(await withBad.op.metrics.ledgerWriteErrors.get()).toMatchObject({ values: [{ value: 0 }] });

    const skipped = (await withBad.op.metrics.nodesSkipped.get()).values.filter((v) => v.value > 0);
    expect(skipped.map((v) => [v.labels.reason, v.value])).toEqual([
      ['quantity', 1],
      ['size', 1],
    ]);
    const skippedPods = (await withBad.op.metrics.podsSkipped.get()).values.filter((v) => v.value > 0);
    expect(skippedPods.map((v) => [v.labels.reason, v.value])).toEqual([['quantity', 1]]);
    // One Event each over 70 cycles, not one a cycle.
    expect(events(withBad.api, 'default')).toEqual([
      [
        'Node',
        'bad-cpu',
        'AccountingSkipped',
        'node has more than 65536 cores (cpuMillis 1000000000000); the node and its pods are left out of accounting (no cost is recorded) until this is fixed',
      ],
      [
        'Node',
        'bad-memory',
        'AccountingSkipped',
        'allocatable memory: quantity "1e30" is more than 9007199254740991 units, beyond exact integers; the node and its pods are left out of accounting (no cost is recorded) until this is fixed',
      ],
      [
        'Node',
        'huge-price',
        'Unpriced',
        'price 999999999999999.00 USD per hour (node annotation aicost.dev/price-per-hour) is above the limit of 10000000 per node-hour; the cost of its pods is unknown until it has a price',
      ],
    ]);
    expect(events(withBad.api, 'lab')).toEqual([
      [
        'Pod',
        'huge-request',
        'AccountingSkipped',
        'request memory: quantity "1e30" is more than 9007199254740991 units, beyond exact integers; the pod is left out of accounting (no cost is recorded) until this is fixed',
      ],
    ]);
    // The bad ones accrue nothing: no cost is made up for them.
    const { pods } = withBad.op.accountant.cumulative;
    for (const uid of ['on-bad-cpu-uid', 'on-bad-memory-uid', 'on-huge-price-uid', 'huge-request-uid'])
      expect(pods.get(uid)?.cost ?? 0n).toBe(0n);
  });

  it('a price of 10^15 an hour on one node stops neither the cycle nor the ledger for the others', async () => {
    const alone = await run(() => undefined);
    const withHuge = await run((api) => {
      api.put('/api/v1/namespaces', { metadata: { name: 'lab' } });
      putBadNode(api, 'huge-price', {}, '999999999999999');
    });
    // Before, the node was priced and its row (10^15 an hour) could not be stored: no window was written.
    expect(withHuge.good).toEqual(alone.good);
    expect(await withHuge.op.metrics.ledgerWriteErrors.get()).toMatchObject({ values: [{ value: 0 }] });
    const unpriced = (await withHuge.op.metrics.unpricedNodes.get()).values.map((v) => v.labels.node);
    expect(unpriced).toEqual(['huge-price']);
  });
});
