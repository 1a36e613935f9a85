/**
 * Storage in the durable ledger (issue #18), against the in-memory API: a claim mounted by a CPU Job is billed
 * to the Job while its pod runs and to its namespace's unattached row after, exactly, apart from compute.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { allRows, HOUR_MS, JOB, NODE_CYCLE_NANOS, prometheus, seed, T0 } from '../testing/ledger-world.ts';
import { formatMoney } from '../cost/money.ts';

const sum = (rows: readonly LedgerRow[], pick: (r: LedgerRow) => bigint) => rows.reduce((s, r) => s + pick(r), 0n);
const storage = (r: LedgerRow) => r.storageCost ?? 0n;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One 60 s cycle of a 100 GiB gp3 claim (0.08 per GiB-month over 730 hours): 0.08e9 × 100 × 60 / 2,628,000 =
 * 182,648.4 nano-units, rounded once per cycle.
 */
const CLAIM_CYCLE_NANOS = 182_648n;

function world(prepRequests: Record<string, string> = {}, running = false) {
  const api = new FakeKube();
  seed(api);
  api.put('/apis/storage.k8s.io/v1/storageclasses', {
    metadata: { name: 'gp3' },
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'gp3' },
  });
  api.put('/api/v1/namespaces/ml/persistentvolumeclaims', {
    metadata: { name: 'ckpt', namespace: 'ml', uid: 'ckpt-uid', creationTimestamp: iso(T0) },
    spec: { storageClassName: 'gp3', resources: { requests: { storage: '100Gi' } } },
    status: { phase: 'Bound', capacity: { storage: '100Gi' } },
  });
  // A CPU preprocessing Job, requesting nothing, on a CPU node: its pod ran [T0, T0 + 30 min).
  api.put('/api/v1/nodes', { metadata: { name: 'cpu-1', uid: 'cpu-uid' }, status: { allocatable: { cpu: '8' } } });
  api.put('/apis/batch/v1/namespaces/ml/jobs', { metadata: { name: 'prep', namespace: 'ml', uid: 'prep-uid' } });
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: {
      name: 'prep-0',
      namespace: 'ml',
      uid: 'prep-0-uid',
      ownerReferences: [{ kind: 'Job', name: 'prep', uid: 'prep-uid', controller: true }],
    },
    spec: {
      nodeName: 'cpu-1',
      containers: [{ resources: { requests: prepRequests } }],
      volumes: [{ name: 'out', persistentVolumeClaim: { claimName: 'ckpt' } }],
    },
    status: running
      ? { phase: 'Running', startTime: iso(T0) }
      : {
          phase: 'Succeeded',
          startTime: iso(T0),
          containerStatuses: [{ state: { terminated: { finishedAt: iso(T0 + 30 * 60_000) } } }],
        },
  });
  return api;
}

describe('storage in the ledger', { timeout: 30_000 }, () => {
  it('bills a claim to the Job that mounts it while it runs, then to the namespace, exactly', async () => {
    const api = world();
    const sink = new MemorySink();
    // Cycles end on whole minutes from T0: 90 of them, the first [T0, T0 + 60 s).
    const clock = new FakeClock(T0 + 1000);
    const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink });
    while (clock.now() + 60_000 <= T0 + 90 * 60_000 + 1000) {
      await clock.advance(59_000);
      await op.cycle();
    }
    await op.stop();
    const rows = await allRows(sink);
    const prep = rows.filter((r) => r.workloadKind === 'Job' && r.workloadName === 'prep');
    const claim = rows.filter((r) => r.workloadKind === 'PersistentVolumeClaim');

    // 30 minutes mounted by the Job, 60 unmounted after it ended: billed to the namespace's unattached row.
    expect(sum(prep, storage)).toBe(30n * CLAIM_CYCLE_NANOS);
    expect(sum(prep, (r) => r.cost)).toBe(0n);
    expect(sum(claim, storage)).toBe(60n * CLAIM_CYCLE_NANOS);
    expect(claim.map((r) => r.windowStartMs)).toEqual([T0, T0 + HOUR_MS]);
    expect(claim[0]).toMatchObject({
      namespace: 'ml',
      workloadName: 'ckpt',
      workloadUid: 'ckpt-uid',
      team: 'research',
      cost: 0n,
      estimate: false,
      podCount: 0,
    });
    expect(claim[0]?.pricingSource).toContain('catalog gp3');

    // Storage is separate: compute still adds up to the nodes' cost, 60 cycles in the first window. cpu-1 is
    // priced at the default rates, 8 vCPU x 0.0316 = 0.2528 $/h: 4,213,333.3 nano-units a one-minute cycle.
    const firstWindow = rows.filter((r) => r.windowStartMs === T0);
    expect(sum(firstWindow, (r) => r.cost)).toBe(60n * NODE_CYCLE_NANOS + 60n * 4_213_333n);
    expect(sum(rows, storage)).toBe(90n * CLAIM_CYCLE_NANOS);

    // The Job's annotation shows its storage so far, apart from aicost.dev/cost (compute: it requested nothing
    // of its CPU node, so none).
    const annotations = api.object('/apis/batch/v1/namespaces/ml/jobs/prep')?.metadata.annotations ?? {};
    // Rewritten when it changes at the cent, as aicost.dev/cost is: last at cycle 28, when it passed 0.005.
    expect(annotations['aicost.dev/storage-cost']).toBe(formatMoney(28n * CLAIM_CYCLE_NANOS, 6));
    expect(annotations['aicost.dev/cost']).toBe('0.000000');
    expect(api.object(JOB)?.metadata.annotations?.['aicost.dev/storage-cost']).toBeUndefined();
  });

  it("keeps a finished Job's compute annotations while its storage ones are rewritten", async () => {
    // The Job requests half of cpu-1, so it has compute cost; annotations are written every 5 minutes at most.
    const api = world({ cpu: '4' }, true);
    const clock = new FakeClock(T0 + 1000);
    const op = await startOperator(
      api,
      clock,
      prometheus(),
      ['team'],
      'Audit',
      undefined,
      {},
      {
        annotateIntervalMs: 300_000,
      },
    );
    for (let i = 0; i < 30; i++) {
      await clock.advance(59_000);
      // Its pod goes at minute 13: the last compute figures are pending a write due at minute 15.
      if (i === 13) api.remove('/api/v1/namespaces/ml/pods', 'prep-0');
      await op.cycle();
    }
    await op.stop();
    const ledger = op.accountant.cumulative.workloads.get('Job/ml/prep');
    expect(ledger?.cost).toBeGreaterThan(0n);
    const annotations = api.object('/apis/batch/v1/namespaces/ml/jobs/prep')?.metadata.annotations ?? {};
    // The storage offers since must not have dropped the last compute figures.
    expect(annotations['aicost.dev/cost']).toBe(formatMoney(ledger?.cost ?? 0n, 6));
    expect(annotations['aicost.dev/cost-per-hour']).toBe('0.0000');
    expect(annotations['aicost.dev/storage-cost']).toBeDefined();
  });
});
