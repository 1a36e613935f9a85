/** The operator's graph as the manager runs it: the synced gate in front of accounting and policies. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './controller/clock.ts';
import { createMetrics } from './controller/metrics.ts';
import { createPricingProvider } from './pricing/provider.ts';
import { buildOperator } from './operator.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { FakePrometheus, harnessOptions } from './testing/harness.ts';
import { LedgerStore } from './ledger/store.ts';
import { MemorySink } from './testing/memory-sink.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);

describe('buildOperator under the manager', () => {
  it('accounts only once the caches have synced, and then every interval', async () => {
    const api = new FakeKube();
    api.put('/api/v1/nodes', {
      metadata: { name: 'g5', labels: { 'node.kubernetes.io/instance-type': 'g5.xlarge' } },
      status: { allocatable: { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' } },
    });
    const clock = new FakeClock(T0);
    const fixed = createPricingProvider();
    const prometheus = new FakePrometheus();
    const op = buildOperator({
      client: api,
      prometheus,
      pricing: { current: () => fixed, refresh: () => Promise.resolve(undefined) },
      clock,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(['team'], 100),
      options: harnessOptions(),
      ledger: { store: new LedgerStore(new MemorySink()), clusterId: 'test-cluster' },
    });
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
});
