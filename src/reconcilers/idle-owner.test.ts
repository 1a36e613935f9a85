/**
 * Idle that lands on an owner (issue #18), through the operator against the in-memory API: a node pool
 * labelled team=vision that nothing runs on is vision's cost in the ledger and in `aicost report --by team`,
 * and allocated + idle = node cost still holds, to the nano-unit.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { GroupSums, IDLE, reportRows } from '../report/aggregate.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { allRows, NODE_CYCLE_NANOS, prometheus, seed, T0 } from '../testing/ledger-world.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { idleOwnerColumns, isLabelValue } from './idle-owner.ts';

/** One 60 s cycle of the 6 $/h pool node: 6e9 × 60 / 3600 = 100,000,000 exactly. */
const POOL_CYCLE_NANOS = 100_000_000n;

const GPU_POOL = { cpu: '32', memory: '256Gi', 'nvidia.com/gpu': '4' };

async function run(idleOwnerLabel: string | undefined, team = 'vision', allocatable: object = GPU_POOL) {
  const api = new FakeKube();
  seed(api);
  api.put('/api/v1/nodes', {
    metadata: {
      name: 'pool-a',
      uid: 'pool-a-uid',
      annotations: { 'aicost.dev/price-per-hour': '6' },
      labels: { team, 'karpenter.sh/nodepool': 'reserved' },
    },
    status: { allocatable },
  });
  const clock = new FakeClock(T0 + 1000);
  const sink = new MemorySink();
  const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink }, { idleOwnerLabel });
  // 30 cycles, all in the window of T0.
  for (let i = 0; i < 30; i++) {
    await clock.advance(59_000);
    await op.cycle();
  }
  await op.stop();
  return { rows: await allRows(sink), metrics: op.metrics };
}

const ledgerOf = async (idleOwnerLabel: string | undefined, team?: string): Promise<LedgerRow[]> =>
  (await run(idleOwnerLabel, team)).rows;

const sum = (rows: readonly LedgerRow[]) => rows.reduce((s, r) => s + r.cost, 0n);
const byTeam = (rows: readonly LedgerRow[], mode: 'separate' | 'pooled') => {
  const sums = new GroupSums(['team']);
  sums.add(rows);
  return reportRows(sums.groups(), mode, ['team']).map((r) => [r.keys[0], r.cost, r.ownedIdle]);
};

describe('idle owned by a node label', { timeout: 30_000 }, () => {
  it('owns a CPU-only pool too: its label is kept in the cache for the option', async () => {
    const { rows } = await run('team', 'etl', { cpu: '32', memory: '128Gi' });
    expect(rows.find((r) => r.workloadName === 'pool-a')).toMatchObject({
      workloadKind: 'Node',
      team: 'etl',
      idleOwner: 'etl',
      compute: 'cpu',
      cost: 30n * POOL_CYCLE_NANOS,
    });
  });

  it('--idle-owner-label team: the idle pool is its team’s row in the ledger and the report; conservation holds', async () => {
    const { rows, metrics } = await run('team');
    const pool = rows.filter((r) => r.workloadName === 'pool-a');
    expect(pool).toHaveLength(1);
    expect(pool[0]).toMatchObject({
      workloadKind: 'Node',
      namespace: '',
      team: 'vision',
      labels: { team: 'vision' },
      idleOwner: 'vision',
      nodePool: 'reserved',
      podCount: 0,
      cost: 30n * POOL_CYCLE_NANOS,
      idleGpuHours: 2_000_000_000n, // 4 GPUs for half an hour
    });
    // gpu-1 has no team label: its idle stays the cluster's.
    expect(rows.find((r) => r.workloadName === 'gpu-1')).toMatchObject({ team: '', labels: {}, idleOwner: '' });
    // Allocated + idle = node cost: both nodes' 30 cycles, exactly.
    expect(sum(rows)).toBe(30n * (NODE_CYCLE_NANOS + POOL_CYCLE_NANOS));

    const gpu1Idle = sum(rows.filter((r) => r.workloadName === 'gpu-1'));
    const research = sum(rows.filter((r) => r.workloadKind !== 'Node'));
    expect(byTeam(rows, 'separate')).toEqual([
      ['vision', 3_000_000_000n, 3_000_000_000n],
      ['research', research, undefined],
      [IDLE, gpu1Idle, undefined],
    ]);
    expect(byTeam(rows, 'pooled')).toEqual([
      ['research', research, undefined],
      [IDLE, gpu1Idle + 3_000_000_000n, undefined],
    ]);

    // The metrics' roll-ups keep the view of before: all idle in __idle__ (floats: to a nano-dollar or so).
    const byLabels = (await metrics.costByLabels.get()).values;
    expect(byLabels.map((v) => v.labels.label_team)).toEqual(['research', IDLE]);
    const idleSeries = byLabels.find((v) => v.labels.label_team === IDLE)?.value;
    expect(idleSeries).toBeCloseTo(Number(gpu1Idle + 3_000_000_000n) / 1e9, 6);
    const namespaces = (await metrics.namespaceCost.get()).values;
    expect(namespaces.find((v) => v.labels.namespace === IDLE)?.value).toBeCloseTo(idleSeries ?? NaN, 9);
  });

  it('off (the default): the same node’s idle is the cluster’s, and the costs are the same', async () => {
    const rows = await ledgerOf(undefined);
    expect(rows.find((r) => r.workloadName === 'pool-a')).toMatchObject({
      team: '',
      labels: {},
      idleOwner: '',
      cost: 30n * POOL_CYCLE_NANOS,
    });
    expect(sum(rows)).toBe(30n * (NODE_CYCLE_NANOS + POOL_CYCLE_NANOS));
  });

  it('a value no label can hold leaves the idle unowned, never dropped', async () => {
    const rows = await ledgerOf('team', 'x'.repeat(64));
    expect(rows.find((r) => r.workloadName === 'pool-a')).toMatchObject({
      team: '',
      idleOwner: '',
      cost: 30n * POOL_CYCLE_NANOS,
    });
  });
});

describe('idleOwnerColumns', () => {
  it.each([
    ['ml', true],
    ['ml-team_1.a', true],
    ['a'.repeat(63), true],
    ['a'.repeat(64), false],
    ['-ml', false],
    ['ml team', false],
    ['ml/', false],
  ])('%j is a label value: %s', (value, valid) => {
    expect(isLabelValue(value)).toBe(valid);
    expect(idleOwnerColumns('team', { team: value }).idleOwner).toBe(valid ? value : '');
  });
});
