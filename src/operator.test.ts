/** The operator's graph as the manager runs it: the synced gate in front of accounting and policies. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from './controller/clock.ts';
import { readiness, unsyncedCaches } from './controller/readiness.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { buildFakeOperator, FakePrometheus, putG5Node } from './testing/harness.ts';
import { LedgerStore } from './ledger/store.ts';
import { MemorySink } from './testing/memory-sink.ts';
import { snapshotJson } from './ledger/durable.ts';
import { HOUR_MS, jobRow } from './testing/ledger-rows.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

describe('buildOperator under the manager', () => {
  it('accounts only once the caches have synced, and then every interval', async () => {
    const api = new FakeKube();
    putG5Node(api);
    const clock = new FakeClock(T0);
    const prometheus = new FakePrometheus();
    const { operator: op } = buildFakeOperator(api, clock, prometheus);
    op.manager.start();
    await clock.advance(5_000);
    // Not synced: accounting waits (requeued each second) and asks Prometheus nothing.
    expect(op.accountant.report).toBeUndefined();
    expect(prometheus.queries).toEqual([]);
    await Promise.all([op.cache.start(), op.policies.start()]);
    await clock.advance(1_000);
    expect(op.accountant.report?.nodes).toBe(1);
    const first = op.accountant.report?.atSeconds ?? 0;
    await clock.advance(60_000);
    expect(op.accountant.report?.atSeconds).toBe(first + 60);
    await op.manager.stop();
    op.cache.stop();
    op.policies.stop();
  });

  // A relist failing with 500s was swallowed: the cache stayed "synced", accounting billed a deleted pod as
  // running through the outage, and /readyz said ready.
  it('bills no deleted pod while its cache cannot be listed: not ready, no cycles, then billed to the lost watch', async () => {
    const api = new FakeKube();
    putG5Node(api);
    api.put('/api/v1/namespaces/ml/pods', {
      metadata: { name: 'train-0', namespace: 'ml', uid: 'pod-uid' },
      spec: { nodeName: 'g5', containers: [{ resources: { limits: { 'nvidia.com/gpu': '1' } } }] },
      status: { phase: 'Running', startTime: new Date(T0).toISOString() },
    });
    const clock = new FakeClock(T0);
    const { operator: op } = buildFakeOperator(api, clock, new FakePrometheus());
    const ready = () =>
      readiness({ unsynced: unsyncedCaches(op.cache.all), electionProblem: undefined, role: 'leader', gpuMetrics: '' });
    const gpuSeconds = () => op.accountant.cumulative.pods.get('pod-uid')?.gpuSeconds;
    await Promise.all([op.cache.start(), op.policies.start()]);
    op.manager.start();
    await clock.advance(600_000);
    expect([gpuSeconds(), ready().ready]).toEqual([600, true]);

    // At 630 s the watches drop and the pods' lists fail for six minutes; the pod is deleted at 690 s, unseen.
    await clock.advance(30_000);
    api.fail('list', '/api/v1/pods', 500, 10);
    api.dropWatches();
    await clock.advance(60_000);
    api.remove('/api/v1/namespaces/ml/pods', 'train-0');
    const lastCycle = op.accountant.report?.atSeconds;
    for (let s = 0; s < 240; s++) await clock.advance(1000);
    expect(ready()).toEqual({ ready: false, detail: 'caches not synced: pods (list failed: 500 Injected)' });
    // The synced gate (src/operator.ts, in front of accounting): no cycle, so accounted-until stays where it was.
    expect([op.accountant.report?.atSeconds, gpuSeconds()]).toEqual([lastCycle, 600]);

    // The tenth list fails 303 to 455 s after the drop (the backoff's jitter), the next one 60 to 90 s later
    // succeeds: the pod is found gone and billed up to the lost watch, 630 s, not through the outage.
    for (let s = 0; s < 300 && !ready().ready; s++) await clock.advance(1000);
    expect(ready().ready).toBe(true);
    await clock.advance(1000);
    expect(gpuSeconds()).toBe(630);
    expect(op.accountant.report?.atSeconds).toBeGreaterThan(lastCycle ?? Infinity);
    await op.manager.stop();
    op.cache.stop();
    op.policies.stop();
  });

  it('runs the ledger retention on the leader, then once a day', async () => {
    const sink = new MemorySink();
    const store = new LedgerStore(sink);
    const old = T0 - 500 * 24 * HOUR_MS;
    for (const start of [old, T0 - HOUR_MS]) {
      const at = { clusterId: 'test-cluster', windowStartMs: start, windowEndMs: start + HOUR_MS };
      await store.writeWindow('test-cluster', start, [jobRow(at)]);
    }
    await store.writeState('test-cluster', snapshotJson('test-cluster', { throughMs: T0, targets: new Map() }));
    const clock = new FakeClock(T0);
    const { operator: op } = buildFakeOperator(new FakeKube(), clock, new FakePrometheus(), {
      store,
      options: { ledgerRetentionMs: 400 * 24 * HOUR_MS },
    });
    op.manager.start();
    await clock.advance(1_000);
    expect((await store.windows('test-cluster')).map((w) => w.windowStartMs)).toEqual([T0 - HOUR_MS]);
    const runs = () => sink.puts.filter((k) => k.endsWith('retention.json')).length;
    expect(runs()).toBe(1);
    await clock.advance(23 * HOUR_MS);
    expect(runs()).toBe(1);
    await clock.advance(HOUR_MS);
    expect(runs()).toBe(2);
    await op.manager.stop();
  });
});
