/**
 * Memory follows the live objects (issue #19): after thousands of short Jobs, all deleted, what the accountant,
 * the durable ledger and the annotation writer keep returns to what the live objects need, and only once the
 * deleted Jobs' rows are written: the ledger still has every one, with its cost.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { startOperator } from '../testing/harness.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { allRows, prometheus, seed, T0 } from '../testing/ledger-world.ts';

const JOBS = 1000;
const WINDOW_MS = 10 * 60_000;

/** A sink whose writes fail while `failing` (reads still work). */
class FlakySink extends MemorySink {
  failing = false;
  override put(key: string, body: Uint8Array): Promise<void> {
    return this.failing ? Promise.reject(new Error('503 Slow Down')) : super.put(key, body);
  }
}

/** The seeded world with an operator on `sink` whose ledger windows are ten minutes; a cycle a minute. */
async function world(sink: MemorySink, clock = new FakeClock(T0 + 25_000), api = seeded()) {
  const op = await startOperator(api, clock, prometheus(), ['team'], 'Audit', undefined, { sink, windowMs: WINDOW_MS });
  const minute = async () => {
    await clock.advance(59_000);
    await op.cycle();
  };
  return { api, clock, op, minute };
}

function seeded(): FakeKube {
  const api = new FakeKube();
  seed(api);
  return api;
}

/** Deletes Job i and its pod: the pod first for even i, the Job first for odd i (its pod's last span is still its). */
function deleteJob(api: FakeKube, i: number): void {
  const pod = () => api.remove('/api/v1/namespaces/ml/pods', `short-${i}-0`);
  const job = () => api.remove('/apis/batch/v1/namespaces/ml/jobs', `short-${i}`);
  if (i % 2 === 0) {
    pod();
    job();
  } else {
    job();
    pod();
  }
}

function putJob(api: FakeKube, i: number, startMs: number): void {
  api.put('/apis/batch/v1/namespaces/ml/jobs', {
    metadata: { name: `short-${i}`, namespace: 'ml', uid: `short-${i}-uid` },
  });
  api.put('/api/v1/namespaces/ml/pods', {
    metadata: {
      name: `short-${i}-0`,
      namespace: 'ml',
      uid: `short-${i}-0-uid`,
      ownerReferences: [{ kind: 'Job', name: `short-${i}`, uid: `short-${i}-uid`, controller: true }],
    },
    spec: { nodeName: 'gpu-1', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
    status: { phase: 'Running', startTime: new Date(startMs).toISOString() },
  });
}

describe('churn', () => {
  it(`forgets ${JOBS} deleted Jobs once their rows are written, and the ledger keeps every one`, async () => {
    const sink = new MemorySink();
    const { api, clock, op, minute } = await world(sink);
    await minute();
    await minute();
    const live = op.accountant.sizes();

    for (let i = 0; i < JOBS; i++) putJob(api, i, clock.now());
    await minute();
    await minute();
    const peak = op.accountant.sizes();
    expect(peak.podLedgers).toBe(live.podLedgers + JOBS);
    expect(peak.workloadLedgers).toBe(live.workloadLedgers + JOBS);
    expect(peak.ledgerTargets).toBe(live.ledgerTargets + JOBS);
    expect(peak.writerStates).toBe(live.writerStates + 2 * JOBS); // each Job and its pod

    for (let i = 0; i < JOBS; i++) deleteJob(api, i);
    // The first cycle after the deletions accrues each Job's last span: its final cost.
    await minute();
    const costs = new Map<string, bigint>();
    for (let i = 0; i < JOBS; i++) {
      const cost = op.accountant.cumulative.workloads.get(`Job/ml/short-${i}`)?.cost ?? -1n;
      costs.set(`short-${i}`, cost);
      // The pod's whole cost, its last span included, is its Job's (whichever left the cache first).
      expect(op.accountant.cumulative.pods.get(`short-${i}-0-uid`)?.cost).toBe(cost);
    }
    const pending = op.accountant.sizes();
    // Written only at the window's end: until then their ledgers stay.
    expect(pending.workloadLedgers).toBe(live.workloadLedgers + JOBS);
    expect(pending.ledgerTargets).toBe(live.ledgerTargets + JOBS);

    // Past the window's end (T0 + 10 min): it is written, and they go.
    while (clock.now() < T0 + 2 * WINDOW_MS) await minute();
    await op.stop();
    expect(op.accountant.sizes()).toEqual(live);
    const tracked = (await op.metrics.trackedObjects.get()).values.map((v) => [v.labels.kind, v.value]);
    expect(Object.fromEntries(tracked)).toEqual(live);

    const all = await allRows(sink);
    expect(all.filter((r) => r.workloadKind === 'Pod' && r.workloadName.startsWith('short-'))).toEqual([]);
    const rows = all.filter((r) => r.workloadKind === 'Job' && r.workloadName.startsWith('short-'));
    const ledgerCosts = new Map<string, bigint>();
    for (const r of rows) ledgerCosts.set(r.workloadName, (ledgerCosts.get(r.workloadName) ?? 0n) + r.cost);
    expect(ledgerCosts.size).toBe(JOBS);
    expect(ledgerCosts).toEqual(costs);
    for (const cost of costs.values()) expect(cost).toBeGreaterThan(0n);
  }, 120_000);

  it('keeps a deleted Job until the window with its last row is written, however long the sink fails', async () => {
    const sink = new FlakySink();
    const { api, clock, op, minute } = await world(sink);
    await minute();
    const live = op.accountant.sizes();
    for (let i = 0; i < 20; i++) putJob(api, i, clock.now());
    await minute();
    for (let i = 0; i < 20; i++) deleteJob(api, i);
    await minute();
    sink.failing = true;
    while (clock.now() < T0 + 3 * WINDOW_MS) await minute();
    expect(op.accountant.sizes().workloadLedgers).toBe(live.workloadLedgers + 20);
    expect(op.accountant.sizes().ledgerTargets).toBe(live.ledgerTargets + 20);
    sink.failing = false;
    // The writes are retried with the next cycle's; gone objects are looked for every five minutes.
    for (let i = 0; i < 6; i++) await minute();
    expect(op.accountant.sizes()).toEqual(live);
    const rows = (await allRows(sink)).filter((r) => r.workloadName.startsWith('short-'));
    expect(new Set(rows.map((r) => r.workloadName)).size).toBe(20);
    await op.stop();
  });

  it('a restart does not bring forgotten Jobs back, and forgets those the ledger still has', async () => {
    const sink = new MemorySink();
    const first = await world(sink);
    await first.minute();
    const live = first.op.accountant.sizes();
    for (let i = 0; i < 20; i++) putJob(first.api, i, first.clock.now());
    await first.minute();
    for (let i = 0; i < 20; i++) deleteJob(first.api, i);
    await first.minute();
    // Stopped before the window with their last rows is written: the next leader reads them back.
    await first.op.stop();
    const second = await world(sink.reopen(), first.clock, first.api);
    await second.minute();
    expect(second.op.accountant.sizes().ledgerTargets).toBe(live.ledgerTargets + 20);
    while (second.clock.now() < T0 + 2 * WINDOW_MS) await second.minute();
    expect(second.op.accountant.sizes()).toEqual(live);
    await second.op.stop();
    const rows = (await allRows(sink)).filter((r) => r.workloadName.startsWith('short-'));
    expect(new Set(rows.map((r) => r.workloadName)).size).toBe(20);
    const third = await world(sink.reopen(), second.clock, second.api);
    await third.minute();
    expect(third.op.accountant.sizes()).toEqual(live);
    await third.op.stop();
  });
});
