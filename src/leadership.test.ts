/** A leader whose Lease calls hang steps down at the renew deadline: its work stops and it exits. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './controller/clock.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { leadership } from './leadership.ts';
import { FakeKube } from './testing/fake-kube.ts';
import { TEST_ELECTION } from './testing/election.ts';
import { buildFakeOperator, FakePrometheus, putG5Node } from './testing/harness.ts';

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const ELECTION = TEST_ELECTION;

describe('leadership', () => {
  it('steps down when its Lease update hangs: no more cycles, aicost_leader 0, exit 1, before a standby may lead', async () => {
    const api = new FakeKube();
    putG5Node(api);
    const clock = new FakeClock(T0);
    const prometheus = new FakePrometheus();
    const { operator, metrics } = buildFakeOperator(api, clock, prometheus);
    const exits: [number, number][] = [];
    const lead = leadership({
      operator,
      metrics,
      log: pino({ level: 'silent' }),
      stopping: () => false,
      exit: (code) => exits.push([clock.now(), code]),
    });
    const elector = new LeaderElector(ELECTION, api, clock, pino({ level: 'silent' }), lead);
    const leaderGauge = async () => (await metrics.leader.get()).values[0]?.value;
    await Promise.all([operator.cache.start(), operator.policies.start()]);
    elector.start();
    await clock.advance(60_000);
    expect([elector.isLeader, operator.manager.isRunning, await leaderGauge()]).toEqual([true, true, 1]);
    expect(operator.accountant.report?.nodes).toBe(1);

    // Every Lease update from now on hangs; the last renewal began at the last even second.
    api.hang('update', 'leases');
    const renewedAt = clock.now();
    await clock.advance(ELECTION.renewDeadlineMs);
    expect(exits).toEqual([[renewedAt + ELECTION.renewDeadlineMs, 1]]);
    expect([elector.isLeader, await leaderGauge()]).toEqual([false, 0]);

    // The exit is a fake here: the manager has stopped taking keys, so no cycle runs after the step-down.
    const queries = prometheus.queries.length;
    await clock.advance(180_000);
    expect([prometheus.queries.length, operator.manager.isRunning]).toEqual([queries, false]);
    await elector.stop();
    operator.cache.stop();
    operator.policies.stop();
    for (const d of operator.denials) d.events.stop();
  });
});
