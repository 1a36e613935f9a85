import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from './clock.ts';
import { KubeApiError } from './errors.ts';
import { Manager } from './manager.ts';
import { TerminalError, type ReconcileOutcome } from './workqueue.ts';

const log = pino({ level: 'silent' });

/** A reconcile that records its runs and can be held open until released. */
function probe(result?: { requeueAfterMs?: number }) {
  const runs: number[] = [];
  let running = 0;
  let maxRunning = 0;
  let hold: Promise<void> | undefined;
  let release: () => void = () => undefined;
  return {
    runs,
    get maxRunning() {
      return maxRunning;
    },
    holdNext() {
      hold = new Promise((r) => (release = r));
    },
    release: () => release(),
    reconcile: async (clock: FakeClock) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs.push(clock.now());
      const h = hold;
      hold = undefined;
      await h;
      running--;
      return result;
    },
  };
}

describe('Manager', () => {
  it('runs nothing until this replica leads, then the initial key at once', async () => {
    const clock = new FakeClock(0);
    const p = probe();
    const m = new Manager(clock, log);
    m.register({ name: 'accounting', reconcile: () => p.reconcile(clock), initialKeys: ['cycle'] });
    m.enqueue('accounting', 'cycle');
    await clock.advance(1000);
    expect(p.runs).toEqual([]);
    m.start();
    await flushPromises();
    expect(p.runs).toEqual([1000]);
    await m.stop();
  });

  it('requeueAfter runs the key again after that long on the given clock', async () => {
    const clock = new FakeClock(0);
    const p = probe({ requeueAfterMs: 10_000 });
    const m = new Manager(clock, log);
    m.register({ name: 'accounting', reconcile: () => p.reconcile(clock), initialKeys: ['cycle'] });
    m.start();
    await clock.advance(25_000);
    expect(p.runs).toEqual([0, 10_000, 20_000]);
    await m.stop();
  });

  it('a firing during a pass runs after it, not beside it, and once however often it fired', async () => {
    const clock = new FakeClock(0);
    const p = probe();
    const m = new Manager(clock, log);
    m.register({ name: 'policies', reconcile: () => p.reconcile(clock), initialKeys: ['all'] });
    p.holdNext();
    m.start();
    await flushPromises();
    await clock.advance(500);
    m.enqueue('policies', 'all'); // a schedule fired
    m.enqueue('policies', 'all'); // an accounting cycle finished
    await flushPromises();
    expect(p.runs).toEqual([0]);
    await clock.advance(500);
    p.release();
    await flushPromises();
    expect(p.runs).toEqual([0, 1000]);
    expect(p.maxRunning).toBe(1);
    await m.stop();
  });

  it('stop waits for the reconcile under way and starts no other', async () => {
    const clock = new FakeClock(0);
    const p = probe({ requeueAfterMs: 1000 });
    const m = new Manager(clock, log);
    m.register({ name: 'accounting', reconcile: () => p.reconcile(clock), initialKeys: ['cycle'] });
    p.holdNext();
    m.start();
    await flushPromises();
    m.enqueue('accounting', 'waiting'); // queued behind the one under way: dropped by stop
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await flushPromises();
    expect(stopped).toBe(false);
    p.release();
    await stopping;
    await clock.advance(5000);
    expect(p.runs).toEqual([0]);
    expect(m.isRunning).toBe(false);
  });

  it('leadership regained: the workers start again with a fresh queue', async () => {
    const clock = new FakeClock(0);
    const p = probe();
    const m = new Manager(clock, log);
    m.register({ name: 'accounting', reconcile: () => p.reconcile(clock), initialKeys: ['cycle'] });
    m.start();
    await flushPromises();
    await m.stop();
    await clock.advance(1000);
    m.start();
    await flushPromises();
    expect(p.runs).toEqual([0, 1000]);
    await m.stop();
  });

  it.each([
    ['an error backs off and retries', new Error('boom'), 'error', 2],
    [
      'a 409 conflict retries quietly',
      new KubeApiError(409, 'Conflict', 'the object has been modified'),
      'conflict',
      2,
    ],
    ['a terminal error is not retried', new TerminalError('bad spec'), 'terminal', 1],
  ])('%s', async (_name, error, outcome, attempts) => {
    const clock = new FakeClock(0);
    const outcomes: ReconcileOutcome[] = [];
    let calls = 0;
    const logged: unknown[] = [];
    const m = new Manager(clock, pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }), {
      onResult: (_c, o) => outcomes.push(o),
    });
    m.register({
      name: 'c',
      initialKeys: ['k'],
      reconcile: () => {
        calls++;
        return calls === 1 ? Promise.reject(error) : Promise.resolve(undefined);
      },
    });
    m.start();
    await clock.advance(100);
    expect(calls).toBe(attempts);
    expect(outcomes[0]).toBe(outcome);
    expect(logged.length).toBe(outcome === 'conflict' ? 0 : 1);
    await m.stop();
  });
});
