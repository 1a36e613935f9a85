import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { FakeClock } from './clock.ts';
import { TEST_ELECTION } from '../testing/election.ts';
import { LeaderElector } from './leader-election.ts';

const OPTIONS = TEST_ELECTION;
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/aicost-system/leases';
const NAMESPACES = '/api/v1/namespaces';

/** An elector on the in-memory API, with its log lines kept as parsed JSON. */
function elector(api: FakeKube, clock: FakeClock, identity = OPTIONS.identity) {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'info' },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  const started: number[] = [];
  const stopped: number[] = [];
  const e = new LeaderElector({ ...OPTIONS, identity }, api, clock, log, {
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
    await clock.advance(OPTIONS.renewDeadlineMs - 1);
    expect([e.isLeader, stopped]).toEqual([true, []]);
    // At the 10 s deadline it steps down.
    await clock.advance(1);
    expect([e.isLeader, stopped]).toEqual([false, [renewedAt + OPTIONS.renewDeadlineMs]]);
    expect(errors()).toEqual(['lost leadership']);
    await e.stop();
  });

  // The client's 30 s timeout outlived the 15 s lease: a leader whose renewal hung led on while a standby took over.
  it.each([
    ['a hung Lease update that its signal cuts off', false],
    ['a hung Lease update deaf to its signal', true],
  ])('steps down at the renew deadline on %s, before a standby can take the Lease', async (_name, deaf) => {
    const api = new FakeKube();
    const clock = new FakeClock();
    const a = elector(api, clock);
    a.e.start();
    await clock.advance(0);
    const renewedAt = clock.now();
    const b = elector(api, clock, 'replica-b');
    b.e.start();
    await clock.advance(0);
    expect([a.e.isLeader, b.e.isLeader]).toEqual([true, false]);

    api.hang('update', 'leases', 1, deaf); // A's next renewal, at +2 s, never answers
    await clock.advance(OPTIONS.renewDeadlineMs);
    expect([a.e.isLeader, a.stopped]).toEqual([false, [renewedAt + OPTIONS.renewDeadlineMs]]);
    expect(a.errors()).toEqual(['lost leadership']);
    // The replica exits on stepping down (src/leadership.ts): its elector stops with it.
    await a.e.stop();

    await clock.advance(OPTIONS.leaseDurationMs);
    expect(b.e.isLeader).toBe(true);
    const [bStartedAt = 0] = b.started;
    expect(bStartedAt).toBeGreaterThanOrEqual(renewedAt + OPTIONS.leaseDurationMs);
    expect(bStartedAt).toBeGreaterThan(a.stopped[0] ?? Infinity);
    await b.e.stop();
  });

  it('cuts off every Lease call of a candidate at the renew deadline and tries again', async () => {
    const api = new FakeKube();
    const clock = new FakeClock();
    const { e, started, warnings } = elector(api, clock);
    api.hang('get', 'leases', 1);
    e.start();
    await clock.advance(OPTIONS.renewDeadlineMs);
    expect([e.isLeader, warnings()]).toEqual([false, ['lease update failed']]);
    await clock.advance(OPTIONS.retryPeriodMs);
    expect([e.isLeader, started]).toEqual([true, [clock.now()]]);
    await e.stop();
  });

  it('releases the Lease on stop, and a hung release does not hold the shutdown past the renew deadline', async () => {
    const api = new FakeKube();
    const clock = new FakeClock();
    const { e } = elector(api, clock);
    e.start();
    await clock.advance(0);
    api.hang('get', 'leases', 1, true);
    let stopped = false;
    void e.stop().then(() => (stopped = true));
    await clock.advance(OPTIONS.renewDeadlineMs);
    expect(stopped).toBe(true);

    const { e: again } = elector(api, clock);
    again.start();
    await clock.advance(0);
    await again.stop();
    expect(api.object(`${LEASES}/aicost-operator`)?.spec).toMatchObject({ holderIdentity: null });
  });
});
