/**
 * The durable ledger written by the accountant, against the in-memory API: sums, node identity, restarts and
 * kills at arbitrary points, a tenant editing its annotations, a deleted Job, window rollover.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { formatMoney } from '../cost/money.ts';
import { parseSnapshot } from '../ledger/durable.ts';
import { decodeMetadata, decodeRows } from '../ledger/parquet.ts';
import { LocalSink } from '../ledger/local-sink.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import type { ObjectSink } from '../ledger/sink.ts';
import { duckdb, sqlString } from '../testing/duckdb.ts';
import { encodeRowsBeforeNamespaceLabels } from '../testing/ledger-before-namespace-labels.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { allRows, HOUR_MS, JOB, NODE_CYCLE_NANOS, prometheus, seed, T0 } from '../testing/ledger-world.ts';

const sum = (rows: readonly LedgerRow[], pick: (r: LedgerRow) => bigint = (r) => r.cost) =>
  rows.reduce((s, r) => s + pick(r), 0n);
const of = (rows: readonly LedgerRow[], kind: string, name: string) =>
  rows.filter((r) => r.workloadKind === kind && r.workloadName === name);

/** Starts an operator on `sink` and runs minute cycles until `untilMs`; `kill` drops it mid-way (see below). */
async function runUntil(api: FakeKube, clock: FakeClock, sink: ObjectSink, untilMs: number) {
  const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink });
  while (clock.now() + 60_000 <= untilMs) {
    await clock.advance(59_000);
    await op.cycle();
  }
  return op;
}

/** The seeded API, a clock 25 s past T0 (cycles end 24 s past the minute) and an empty ledger in memory. */
function world() {
  const api = new FakeKube();
  seed(api);
  return { api, clock: new FakeClock(T0 + 25_000), sink: new MemorySink() };
}

describe('the durable ledger', { timeout: 30_000 }, () => {
  it('writes rows whose sums are the cumulative ledgers to the nano, and allocated + idle = node cost per window', async () => {
    const api = new FakeKube();
    seed(api);
    const dir = await mkdtemp(join(tmpdir(), 'aicost-ledger-'));
    try {
      const sink = await LocalSink.open(dir);
      // Cycles end on whole minutes from T0, so no cycle straddles a window: each window holds 60 cycles.
      const clock = new FakeClock(T0 + 1000);
      const op = await runUntil(api, clock, sink, T0 + 150 * 60_000 + 1000);
      await op.stop();
      const rows = await allRows(sink);
      const windows = [...new Set(rows.map((r) => r.windowStartMs))];
      expect(windows).toEqual([T0, T0 + HOUR_MS, T0 + 2 * HOUR_MS]);

      // Each workload's rows add up to its cumulative ledger (what its annotations show), exactly.
      const { workloads, pods } = op.accountant.cumulative;
      const job = workloads.get('Job/ml/train');
      expect(sum(of(rows, 'Job', 'train'))).toBe(job?.cost);
      expect(sum(of(rows, 'Deployment', 'web'))).toBe(workloads.get('Deployment/ml/web')?.cost);
      expect(sum(of(rows, 'Pod', 'notebook'))).toBe(pods.get('notebook-uid')?.cost);
      expect(api.object(JOB)?.metadata.annotations?.['aicost.dev/cost']).toBe(formatMoney(job?.cost ?? 0n, 6));
      // 150 minutes of one GPU at 0.7284 $/h; its GPU-hours are 2.5 exactly, half of them measured busy.
      expect(sum(of(rows, 'Job', 'train'), (r) => r.gpuHours)).toBe(2_500_000_000n);
      for (const r of of(rows, 'Job', 'train')) expect(r.utilization).toBeCloseTo(0.5, 6);

      // Allocated + idle = node cost: 60 cycles of the node in each whole window, 30 in the open one.
      const byWindow = (start: number) => sum(rows.filter((r) => r.windowStartMs === start));
      expect([byWindow(T0), byWindow(T0 + HOUR_MS), byWindow(T0 + 2 * HOUR_MS)]).toEqual([
        60n * NODE_CYCLE_NANOS,
        60n * NODE_CYCLE_NANOS,
        30n * NODE_CYCLE_NANOS,
      ]);
      const node = of(rows, 'Node', 'gpu-1')[0];
      expect(node).toMatchObject({
        workloadUid: 'node-uid',
        namespace: '',
        nodePool: 'gpu',
        region: 'eu-west-1',
        gpuModel: 'NVIDIA-H100',
        podCount: 3,
        idleGpuHours: 4_000_000_000n, // 4 of 8 GPUs unrequested for the hour
        utilization: null,
        namespaceLabels: {},
      });
      expect(of(rows, 'Job', 'train')[0]).toMatchObject({
        clusterId: 'test-cluster',
        namespace: 'ml',
        workloadUid: 'job-uid',
        team: 'research',
        labels: { team: 'research' },
        namespaceLabels: { team: 'research' },
        instanceType: 'custom',
        capacityType: 'on-demand',
        pricingSource: 'node',
        estimate: false,
        podCount: 1,
        jobOutcome: 'running',
        imported: false,
        currency: 'USD',
      });

      // DuckDB reads the whole windows (not the open window's piece) with the Hive partitions as columns.
      const glob = sqlString(`${dir}/**/*.parquet`);
      const { rows: totals } = await duckdb(
        `SELECT cluster, count(*) AS n, sum(cost) AS cost FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'cluster': VARCHAR}) GROUP BY cluster`,
      );
      const closed = rows.filter((r) => r.windowStartMs < T0 + 2 * HOUR_MS);
      expect(totals).toEqual([
        { cluster: 'test-cluster', n: String(closed.length), cost: formatMoney(sum(closed), 9) },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['every cycle', 0],
    ['every 5 minutes (--ledger-flush-interval 5m)', 300_000],
  ])(
    'loses at most one interval of cost, and counts nothing twice, when killed at arbitrary points: pieces %s',
    async (_name, flushMs) => {
      const end = T0 + 200 * 60_000 + 25_000;
      const reference = new MemorySink();
      const refApi = new FakeKube();
      seed(refApi);
      // Cycles end 24 s past the minute: the cycle over each window boundary is split.
      const refOp = await runUntil(refApi, new FakeClock(T0 + 25_000), reference, end);
      await refOp.stop();
      const expected = sum(await allRows(reference));

      const api = new FakeKube();
      seed(api);
      const clock = new FakeClock(T0 + 25_000);
      let sink = new MemorySink();
      // Kill points: after a cycle's writes landed, or before (its writes lost), around the window boundaries.
      const kills: [number, 'after' | 'before'][] = [
        [7, 'before'],
        [59, 'after'],
        [60, 'before'],
        [61, 'before'],
        [119, 'before'],
        [150, 'after'],
      ];
      let op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink, flushMs });
      for (let minute = 1; clock.now() + 60_000 <= end; minute++) {
        await clock.advance(59_000);
        const kill = kills.find(([at]) => at === minute);
        if (kill?.[1] === 'before') {
          await op.accountant.runCycle();
          sink.kill(); // the queued writes of this cycle fail, as with kill -9 before they landed
        } else await op.cycle();
        if (kill) {
          await op.stop();
          if (kill[1] === 'before') await clock.advance(1000);
          sink = sink.reopen();
          op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink, flushMs });
        }
      }
      await op.stop();
      const rows = await allRows(sink);
      const total = sum(rows);
      // Catch-up spans are priced in one piece where the reference priced minute by minute: a few nanos of
      // rounding per restart either way, and never a whole interval more.
      const rounding = BigInt(kills.length) * 10n;
      expect(total).toBeLessThanOrEqual(expected + rounding);
      expect(total).toBeGreaterThanOrEqual(expected - NODE_CYCLE_NANOS - rounding);
      // One row per target and window: nothing was written twice.
      const keys = rows.map((r) => `${r.workloadUid}@${r.windowStartMs}`);
      expect(new Set(keys).size).toBe(keys.length);
    },
  );

  it('writes the open window every --ledger-flush-interval, and at its end', async () => {
    const { api, clock, sink } = world();
    const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink, flushMs: 300_000 });
    for (let minute = 1; minute <= 66; minute++) {
      await clock.advance(59_000);
      await op.cycle();
    }
    await op.stop();
    const pieces = sink.puts.filter((k) => k.endsWith('.piece'));
    // Minutes 1, 6, ..., 56 of the first window (12), then the first cycle of the next window and minute 66.
    expect(pieces).toHaveLength(14);
    expect(sink.puts.filter((k) => k.endsWith('.parquet'))).toHaveLength(1);
  });

  it("ignores a tenant's edited annotations on restart and rewrites them from the ledger", async () => {
    const { api, clock, sink } = world();
    const first = await runUntil(api, clock, sink, T0 + 30 * 60_000);
    // The tenant zeroes its Job's cost and pushes accounted-until far into the future.
    const job = api.object(JOB);
    if (!job) throw new Error('no Job');
    api.put('/apis/batch/v1/namespaces/ml/jobs', {
      ...job,
      metadata: {
        ...job.metadata,
        annotations: { 'aicost.dev/cost': '0', 'aicost.dev/accounted-until': '2099-01-01T00:00:00Z' },
      },
    });
    await clock.advance(59_000);
    await first.cycle();
    await first.stop();

    const second = await runUntil(api, clock, sink.reopen(), T0 + 61 * 60_000);
    await second.stop();
    const rows = await allRows(sink);
    const cumulative = second.accountant.cumulative.workloads.get('Job/ml/train');
    // Cycles end at 24 s past the minute: 3624 s of one GPU at 0.7284 $/h since the pod started, nothing
    // lost to the edit.
    expect(cumulative?.accountedUntil).toBe(T0 / 1000 + 3624);
    expect(formatMoney(cumulative?.cost ?? 0n, 6)).toBe('0.733256');
    expect(sum(of(rows, 'Job', 'train'))).toBe(cumulative?.cost);
    expect(api.object(JOB)?.metadata.annotations).toMatchObject({
      'aicost.dev/cost': '0.733256',
      'aicost.dev/accounted-until': '2026-11-10T13:00:24Z',
    });
  });

  it('resumes from a ledger written before the namespace_labels column, and writes them from then on', async () => {
    const end = T0 + 130 * 60_000;
    const reference = world();
    await (await runUntil(reference.api, reference.clock, reference.sink, end)).stop();

    const { api, clock, sink } = world();
    await (await runUntil(api, clock, sink, T0 + 70 * 60_000)).stop();
    // The same files as the operator of before would have written them: every window file and piece.
    for (const [key, body] of sink.objects)
      if (/\.(parquet|piece)$/.test(key))
        sink.objects.set(key, encodeRowsBeforeNamespaceLabels(await decodeRows(body), decodeMetadata(body)));
    await (await runUntil(api, clock, sink.reopen(), end)).stop();

    const rows = await allRows(sink);
    expect(sum(rows)).toBe(sum(await allRows(reference.sink)));
    const train = of(rows, 'Job', 'train');
    expect(train.map((r) => [r.windowStartMs - T0, r.namespaceLabels])).toEqual([
      [0, undefined],
      [HOUR_MS, { team: 'research' }],
      [2 * HOUR_MS, { team: 'research' }],
    ]);
  });

  it('keeps the rows of a deleted Job', async () => {
    const { api, clock, sink } = world();
    const op = await runUntil(api, clock, sink, T0 + 50 * 60_000);
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    api.remove('/apis/batch/v1/namespaces/ml/jobs', 'train');
    let cost: bigint | undefined;
    while (clock.now() + 60_000 <= T0 + 130 * 60_000) {
      await clock.advance(59_000);
      await op.cycle();
      // Its last span is accrued in the first cycle after the deletion; it is forgotten once its window is written.
      cost ??= op.accountant.cumulative.workloads.get('Job/ml/train')?.cost;
    }
    await op.stop();
    const rows = of(await allRows(sink), 'Job', 'train');
    expect(rows.map((r) => r.windowStartMs)).toEqual([T0]);
    expect(rows[0]).toMatchObject({ workloadUid: 'job-uid', jobOutcome: 'running' });
    expect(sum(rows)).toBe(cost);
    expect(op.accountant.cumulative.workloads.has('Job/ml/train')).toBe(false);
    // It is in the window's own file, written at the rollover, not only in a piece.
    const stored = await new LedgerStore(sink).windows('test-cluster');
    expect(stored.filter((w) => w.windowStartMs === T0).map((w) => w.pieceId)).toEqual([undefined]);
  });

  // Found on the local cluster: a Job deleted (in the background or the foreground) leaves the cache before its
  // pods do; those pods used to open a Pod target of their own with their whole life in it, a second time.
  it("a Job that leaves the cache before its pod: the pod stays the Job's, nothing is counted twice", async () => {
    const { api, clock, sink } = world();
    const op = await runUntil(api, clock, sink, T0 + 20 * 60_000);
    api.remove('/apis/batch/v1/namespaces/ml/jobs', 'train');
    while (clock.now() + 60_000 <= T0 + 25 * 60_000) {
      await clock.advance(59_000);
      await op.cycle();
    }
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    await clock.advance(59_000);
    await op.cycle();
    await op.stop();
    const rows = await allRows(sink);
    expect(rows.filter((r) => r.workloadKind === 'Pod').map((r) => r.workloadName)).toEqual(['notebook']);
    // One GPU of the 10 $/h node for the 25 minutes the pod ran, to the nano-dollar.
    expect(sum(of(rows, 'Job', 'train'))).toBe(op.accountant.cumulative.pods.get('train-0-uid')?.cost);
  });

  it("a restart while a deleted Job's pod lingers: the pod bills only what follows, not its life again", async () => {
    const { api, clock, sink } = world();
    const first = await runUntil(api, clock, sink, T0 + 20 * 60_000);
    await first.stop();
    api.remove('/apis/batch/v1/namespaces/ml/jobs', 'train');
    const second = await runUntil(api, clock, sink, T0 + 25 * 60_000);
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    await clock.advance(59_000);
    await second.cycle();
    await second.stop();
    const rows = await allRows(sink);
    const job = sum(of(rows, 'Job', 'train'));
    const pod = sum(rows.filter((r) => r.workloadKind === 'Pod' && r.workloadName === 'train-0'));
    expect(pod).toBeGreaterThan(0n);
    expect(pod).toBeLessThan(job);
    expect(job + pod).toBe(second.accountant.cumulative.pods.get('train-0-uid')?.cost);
  });

  it("a standby that takes over after a Job and its pod went: the pod stays the Job's", async () => {
    const { api, clock, sink } = world();
    const standby = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink });
    const first = await runUntil(api, clock, sink, T0 + 20 * 60_000);
    await first.stop();
    // A foreground deletion: the pod goes first, then the Job, before the standby's first cycle.
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    api.remove('/apis/batch/v1/namespaces/ml/jobs', 'train');
    await clock.advance(59_000);
    await standby.cycle();
    await standby.stop();
    const rows = await allRows(sink);
    expect(rows.filter((r) => r.workloadKind === 'Pod').map((r) => r.workloadName)).toEqual(['notebook']);
    expect(sum(of(rows, 'Job', 'train'))).toBe(standby.accountant.cumulative.workloads.get('Job/ml/train')?.cost);
  });

  it('a Job deleted and created again under its name starts afresh; the old one keeps its rows', async () => {
    const { api, clock, sink } = world();
    const cycleUntil = async (op: Awaited<ReturnType<typeof runUntil>>, untilMs: number) => {
      while (clock.now() + 60_000 <= untilMs) {
        await clock.advance(59_000);
        await op.cycle();
      }
    };
    const first = await runUntil(api, clock, sink, T0 + 20 * 60_000);
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    api.remove('/apis/batch/v1/namespaces/ml/jobs', 'train');
    await cycleUntil(first, T0 + 25 * 60_000);
    // What the deleted Job cost, its last span included.
    const oldCost = first.accountant.cumulative.workloads.get('Job/ml/train')?.cost ?? 0n;
    expect(oldCost).toBeGreaterThan(0n);
    api.put('/apis/batch/v1/namespaces/ml/jobs', { metadata: { name: 'train', namespace: 'ml', uid: 'job-uid-2' } });
    api.put('/api/v1/namespaces/ml/pods', {
      metadata: {
        name: 'train-again',
        namespace: 'ml',
        uid: 'train-again-uid',
        ownerReferences: [{ kind: 'Job', name: 'train', controller: true }],
      },
      spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(T0 + 25 * 60_000).toISOString() },
    });
    await cycleUntil(first, T0 + 40 * 60_000);
    await first.stop();
    // A restart in between: the retired Job and the new one both come back from the ledger.
    const second = await runUntil(api, clock, sink.reopen(), T0 + 50 * 60_000);
    await second.stop();
    const rows = of(await allRows(sink), 'Job', 'train');
    const byUid = new Map(rows.map((r) => [r.workloadUid, r.cost]));
    expect([...byUid.keys()].sort()).toEqual(['job-uid', 'job-uid-2']);
    expect(byUid.get('job-uid')).toBe(oldCost);
    // The new Job's cumulative (what its annotations show) is its own cost only: one GPU from its start at
    // minute 25 to the last cycle's end (24 s past minute 49).
    const fresh = second.accountant.cumulative.workloads.get('Job/ml/train');
    expect(fresh?.cost).toBe(byUid.get('job-uid-2'));
    expect(fresh?.gpuSeconds).toBe((second.accountant.report?.atSeconds ?? 0) - (T0 + 25 * 60_000) / 1000);
    expect(fresh?.gpuSeconds).toBe(24 * 60 + 24);
  });

  it('rolls a window over: its file, the state snapshot, its piece deleted, the boundary cycle split exactly', async () => {
    const { api, clock, sink } = world();
    const op = await runUntil(api, clock, sink, T0 + 61 * 60_000);
    // The window that ended is written, so budgets read it from the ledger: only the open one is held.
    expect(op.ledger.recentWindows()?.windows.map((w) => w.windowStartMs)).toEqual([T0 + HOUR_MS]);
    await op.stop();
    const store = new LedgerStore(sink);
    const stored = await store.windows('test-cluster');
    expect(stored.map((w) => [w.windowStartMs, w.pieceId])).toEqual([
      [T0, undefined],
      [T0 + HOUR_MS, 'accountant'],
    ]);
    const snapshot = parseSnapshot((await store.readState('test-cluster')) ?? '');
    expect(snapshot.throughMs).toBe(T0 + HOUR_MS);
    const rows = await allRows(sink);
    const job = of(rows, 'Job', 'train');
    // The first window holds the Job's hour to the second: 3600 s of one GPU. The cycle over the boundary,
    // [12:59:24, 13:00:24), is split 36 s / 24 s; its first part is rounded down (exact here), the rest later.
    expect(job.map((r) => r.gpuHours)).toEqual([1_000_000_000n, 1_006_666_667n - 1_000_000_000n]);
    expect(snapshot.targets.get('Job/ml/train')?.cost).toBe(job[0]?.cost);
    expect(snapshot.targets.get('Job/ml/train')?.accountedUntil).toBe((T0 + HOUR_MS) / 1000);
  });
});
