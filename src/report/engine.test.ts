import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { encodeRowsBeforeNamespaceLabels } from '../testing/ledger-before-namespace-labels.ts';
import { windowKey } from '../ledger/layout.ts';
import { LocalSink } from '../ledger/local-sink.ts';
import { LedgerStore } from '../ledger/store.ts';
import { T0, writeReportLedger } from '../testing/report-ledger.ts';
import { IDLE, reportRows, type Group } from './aggregate.ts';
import { decimal } from './format.ts';
import type { IdleMode } from './options.ts';
import { groupsDuckDb, loadDuckDb, runsDuckDb, timelineDuckDb } from './engine-duckdb.ts';
import { groupsJs, runsJs, timelineJs, type Scope } from './engine-js.ts';
import { toRuns } from './runs.ts';
import { mergeBuckets, type BucketGroup } from './timeline.ts';

let dir = '';
let store: LedgerStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-engine-'));
  store = await writeReportLedger(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bigints = (_key: string, value: unknown) => (typeof value === 'bigint' ? String(value) : value);
const sorted = (groups: Group[]) => groups.map((g) => JSON.stringify(g, bigints)).sort();

const duckdb = await loadDuckDb();
if (!duckdb) throw new Error('the tests need @duckdb/node-api');

const ALL: Scope = { fromMs: T0, toMs: T0 + 3 * HOUR_MS };

describe('the DuckDB engine sums what the JavaScript engine sums', () => {
  it.each<[string, Scope, string[]]>([
    ['by team', ALL, ['team']],
    ['by cluster and team', ALL, ['cluster', 'team']],
    ['by workload', ALL, ['workload']],
    ['by namespace, model and a label', ALL, ['namespace', 'model', 'environment']],
    ['by model, with what was served', ALL, ['model']],
    ['by model over files written before the served columns only', { fromMs: T0, toMs: T0 + HOUR_MS }, ['model']],
    ['by cluster and model, one namespace', { ...ALL, namespace: 'serving' }, ['cluster', 'model']],
    ['one cluster', { ...ALL, clusterId: 'prod-2' }, ['team']],
    ['one namespace', { ...ALL, namespace: 'ml-alpha' }, ['experiment']],
    [
      'the current window only (pieces, not yet compacted)',
      { fromMs: T0 + 2 * HOUR_MS, toMs: T0 + 3 * HOUR_MS },
      ['team'],
    ],
    ['from inclusive, to exclusive', { fromMs: T0 + HOUR_MS, toMs: T0 + 2 * HOUR_MS }, ['team']],
    ['an empty range', { fromMs: T0 + 5 * HOUR_MS, toMs: T0 + 6 * HOUR_MS }, ['team']],
  ])('%s', async (_, scope, by) => {
    const js = await groupsJs(store, scope, by);
    const db = await groupsDuckDb(duckdb, store, dir, scope, by);
    expect(sorted(db)).toEqual(sorted(js));
    expect(reportRows(db, 'share', by)).toEqual(reportRows(js, 'share', by));
  });

  it.each<[string, Scope, string[]]>([
    ['by team', ALL, ['team']],
    ['by workload (each endpoint its own)', ALL, ['workload']],
    ['by cluster and model, one namespace', { ...ALL, namespace: 'serving' }, ['cluster', 'model']],
    ['over files written before the served columns only', { fromMs: T0, toMs: T0 + HOUR_MS }, ['team']],
  ])('with the efficiency figures, %s', async (_, scope, by) => {
    const js = await groupsJs(store, scope, by, true);
    const db = await groupsDuckDb(duckdb, store, dir, scope, by, true);
    expect(sorted(db)).toEqual(sorted(js));
    expect(js.every((g) => g.efficiency !== undefined)).toBe(true);
  });

  it('the current window counts: the range that ends after it has its cost', async () => {
    const before = await groupsJs(store, { fromMs: T0, toMs: T0 + 2 * HOUR_MS }, ['cluster']);
    const after = await groupsJs(store, ALL, ['cluster']);
    const cost = (gs: Group[]) => gs.reduce((s, g) => s + g.cost, 0n);
    // prod-1's third window: 1.000000001 + 0.333333333 + 0.1 + 0.7 idle.
    expect(cost(after) - cost(before)).toBe(2_133_333_334n);
  });

  it('runs, the deleted Job included', async () => {
    const js = toRuns(await runsJs(store, ALL));
    const db = toRuns(await runsDuckDb(duckdb, store, dir, ALL));
    const exact = (runs: typeof js) => runs.map(({ utilization: _u, ...rest }) => rest);
    expect(exact(db)).toEqual(exact(js));
    db.forEach((run, i) => {
      const other = js[i]?.utilization ?? null;
      if (other === null) expect(run.utilization).toBeNull();
      else expect(run.utilization).toBeCloseTo(other, 12);
    });
    expect(db.map((r) => r.name)).toEqual(['train-a', 'train-b', 'train-c']);
  });

  it.each([['window'], ['day']] as const)("the HTML report's sums per %s", async (bucketing) => {
    for (const scope of [ALL, { ...ALL, namespace: 'ml-alpha' }, { ...ALL, clusterId: 'prod-1' }]) {
      const js = await timelineJs(store, scope, ['cluster', 'team'], bucketing);
      const db = await timelineDuckDb(duckdb, store, dir, scope, ['cluster', 'team'], bucketing);
      const buckets = (groups: BucketGroup[]) =>
        groups.map((g) => JSON.stringify({ ...g, cost: String(g.cost) })).sort();
      expect(buckets(db.buckets)).toEqual(buckets(js.buckets));
      expect(sorted(db.workloads)).toEqual(sorted(js.workloads));
      // Summed over the buckets, the groups every other format reports.
      expect(sorted(mergeBuckets(js.buckets))).toEqual(sorted(await groupsJs(store, scope, ['cluster', 'team'])));
    }
    const perWindow = await timelineJs(store, ALL, ['team'], bucketing);
    expect(new Set(perWindow.buckets.map((g) => g.bucketMs)).size).toBe(bucketing === 'window' ? 3 : 1);
  });
});

describe('GPU and CPU work apart (--by compute), over files written before and after the compute column', () => {
  let cpuDir = '';
  let cpuStore: LedgerStore;
  const w = (startMs: number) => ({ clusterId: 'c-1', windowStartMs: startMs, windowEndMs: startMs + HOUR_MS });
  const train = (startMs: number) =>
    jobRow({ ...w(startMs), workloadName: 'train', workloadUid: 'u-train', experiment: 'exp-9', cost: 3_000_000_000n });
  const etl = (startMs: number) =>
    jobRow({
      ...w(startMs),
      workloadName: 'etl',
      workloadUid: 'u-etl',
      experiment: 'exp-9',
      cost: 1_000_000_000n,
      gpuHours: 0n,
      idleGpuHours: 0n,
      utilization: null,
      compute: 'cpu',
    });
  const gpuIdle = (startMs: number) => nodeRow({ ...w(startMs), workloadName: 'gpu-1', cost: 500_000_000n });
  beforeAll(async () => {
    cpuDir = await mkdtemp(join(tmpdir(), 'aicost-compute-'));
    const sink = await LocalSink.open(cpuDir);
    cpuStore = new LedgerStore(sink);
    // 00:00: a file of before the column (GPU nodes only were accounted): read by the rule.
    await sink.put(windowKey('c-1', T0), encodeRowsBeforeNamespaceLabels([train(T0), etl(T0), gpuIdle(T0)]));
    const cpuIdle = nodeRow({
      ...w(T0 + HOUR_MS),
      workloadName: 'cpu-1',
      workloadUid: 'cpu-1',
      gpuHours: 0n,
      idleGpuHours: 0n,
      cost: 250_000_000n,
      compute: 'cpu',
    });
    await cpuStore.writeWindow('c-1', T0 + HOUR_MS, [
      train(T0 + HOUR_MS),
      etl(T0 + HOUR_MS),
      gpuIdle(T0 + HOUR_MS),
      cpuIdle,
    ]);
  });
  afterAll(async () => {
    await rm(cpuDir, { recursive: true, force: true });
  });
  const scope: Scope = { fromMs: T0, toMs: T0 + 2 * HOUR_MS };

  it.each<[string[], IdleMode, string[][]]>([
    [
      ['compute'],
      'separate',
      [
        ['gpu', '6.00'],
        ['cpu', '2.00'],
        // Idle capacity stays apart by its node's kind.
        ['gpu', '1.00'],
        ['cpu', '0.25'],
      ],
    ],
    [
      ['experiment', 'compute'],
      'separate',
      [
        ['exp-9', 'gpu', '6.00'],
        ['exp-9', 'cpu', '2.00'],
        [IDLE, 'gpu', '1.00'],
        [IDLE, 'cpu', '0.25'],
      ],
    ],
    // The experiment's bill: GPU training and CPU preprocessing add up, idle shared by their cost (6:2).
    [['experiment'], 'share', [['exp-9', '9.25']]],
  ])('by %j, idle %s', async (by, mode, expected) => {
    const js = await groupsJs(cpuStore, scope, by);
    const db = await groupsDuckDb(duckdb, cpuStore, cpuDir, scope, by);
    expect(sorted(db)).toEqual(sorted(js));
    expect(reportRows(js, mode, by).map((r) => [...r.keys, decimal(r.cost)])).toEqual(expected);
  });
});
