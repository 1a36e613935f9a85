import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakeClock } from './clock.ts';
import { LeaderElector, type LeaderElectionOptions } from './leader-election.ts';

const OPTIONS: LeaderElectionOptions = {
  namespace: 'aicost-system',
  name: 'aicost-operator',
  identity: 'replica-a',
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2000,
};
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/aicost-system/leases';
const NAMESPACES = '/api/v1/namespaces';

/** An elector on the in-memory API, with its log lines kept as parsed JSON. */
function elector(api: FakeKube, clock: FakeClock) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  const started: number[] = [];
  const stopped: number[] = [];
  const e = new LeaderElector(OPTIONS, api, clock, log, {
    onStartedLeading: () => started.push(clock.now()),
    onStoppedLeading: () => stopped.push(clock.now()),
  });
  const at = (level: number) => lines.filter((l) => l.level === level).map((l) => l.msg);
  return { e, started, stopped, errors: () => at(50), warnings: () => at(40), infos: () => at(30) };
}

describe('leader election', () => {
  it('takes a Lease that does not exist yet by creating it', async () => {
    const api = new FakeKube({ namespacesMustExist: true });
    api.put(NAMESPACES, { metadata: { name: 'aicost-system' } });
    const clock = new FakeClock();
    const { e, started, errors } = elector(api, clock);
    e.start();
    await clock.advance(0);
    expect([e.isLeader, e.problem, started.length, errors()]).toEqual([true, undefined, 1, []]);
    expect(api.object(`${LEASES}/aicost-operator`)?.spec).toMatchObject({ holderIdentity: 'replica-a' });
    await e.stop();
  });

  it("says once, as an error with the fix, that the Lease's namespace is missing; leads once it exists", async () => {
    const api = new FakeKube({ namespacesMustExist: true });
    const clock = new FakeClock();
    const { e, started, errors, warnings, infos } = elector(api, clock);
    e.start();
    await clock.advance(20_000); // eleven attempts, one retry period apart
    expect(e.isLeader).toBe(false);
    expect(e.problem).toBe('namespace "aicost-system" not found');
    expect(errors()).toEqual([
      'leader election: namespace "aicost-system" not found: create it (kubectl create namespace aicost-system) ' +
        'or pass --leader-election-namespace with one that exists; retrying until then',
    ]);
    expect(warnings()).toEqual([]);

    api.put(NAMESPACES, { metadata: { name: 'aicost-system' } });
    await clock.advance(2000);
    expect([e.isLeader, e.problem, started.length, errors().length]).toEqual([true, undefined, 1, 1]);
    expect(infos()).toContain('leader election: namespace "aicost-system" found');
    await e.stop();
  });

  it('keeps other failures of the Lease calls as warnings, not as a missing namespace', async () => {
    const api = new FakeKube({ namespacesMustExist: true });
    api.put(NAMESPACES, { metadata: { name: 'aicost-system' } });
    api.fail('create', 'leases', 500, 2);
    const clock = new FakeClock();
    const { e, errors, warnings } = elector(api, clock);
    e.start();
    await clock.advance(2000);
    expect([e.isLeader, e.problem, errors(), warnings()]).toEqual([
      false,
      undefined,
      [],
      ['lease update failed', 'lease update failed'],
    ]);
    await clock.advance(2000);
    expect(e.isLeader).toBe(true);
    await e.stop();
  });

  it('a leader that cannot renew its Lease stops leading after the renew deadline, not before', async () => {
    const api = new FakeKube();
    const clock = new FakeClock();
    const { e, started, stopped, errors } = elector(api, clock);
    e.start();
    await clock.advance(0);
    const renewedAt = clock.now();
    expect([e.isLeader, started]).toEqual([true, [renewedAt]]);
    // Every renewal from now on fails; retries come every 2 s.
    api.fail('get', 'leases', 500, 1000);
    await clock.advance(OPTIONS.renewDeadlineMs);
    expect([e.isLeader, stopped]).toEqual([true, []]);
    // The first retry past the 10 s deadline gives up.
    await clock.advance(OPTIONS.retryPeriodMs);
    expect([e.isLeader, stopped]).toEqual([false, [renewedAt + 12_000]]);
    expect(errors()).toEqual(['lost leadership']);
    await e.stop();
  });
});
