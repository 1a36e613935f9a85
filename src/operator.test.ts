/** The operator's graph as the manager runs it: the synced gate in front of accounting and policies. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from './controller/clock.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { buildFakeOperator, FakePrometheus, putG5Node } from './testing/harness.ts';

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
});
