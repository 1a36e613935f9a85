import { describe, expect, it } from 'vitest';
import { FakeClock, flushPromises } from './clock.ts';
import { runWorkers, WorkQueue } from './workqueue.ts';

describe('WorkQueue', () => {
  it('de-duplicates keys waiting in the queue', async () => {
    const q = new WorkQueue('t', new FakeClock());
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands one key to two workers: a re-add while processing waits for done()', async () => {
    const q = new WorkQueue('t', new FakeClock());
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(key ?? '');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('backs off per key exponentially from 5 ms, and resets after forget()', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue('t', clock);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.length === 0) await clock.advance(1);
      delays.push(clock.now() - start);
      await q.get().then((k) => q.done(k ?? ''));
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(q.numRequeues('a')).toBe(4);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('caps retries with a global token bucket once the burst is spent', () => {
    const clock = new FakeClock();
    const q = new WorkQueue('t', clock, { baseDelayMs: 1, maxDelayMs: 1000, qps: 10, burst: 2 });
    q.addRateLimited('a');
    q.addRateLimited('b');
    // The third retry in the same instant waits for a token: 1/10 s.
    const before = clock.now();
    q.addRateLimited('c');
    return clock.advance(99).then(async () => {
      expect(q.length).toBe(2);
      await clock.advance(1);
      expect(q.length).toBe(3);
      expect(clock.now() - before).toBe(100);
    });
  });

  it('keeps the earliest of two addAfter calls', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue('t', clock);
    q.addAfter('a', 1000);
    q.addAfter('a', 100);
    q.addAfter('a', 5000);
    await clock.advance(100);
    expect(q.length).toBe(1);
    await q.get().then((k) => q.done(k ?? ''));
    await clock.advance(10_000);
    expect(q.length).toBe(0);
  });

  it('runs reconcilers, retries failures with backoff and honours requeueAfter', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue('t', clock);
    const calls: string[] = [];
    let failures = 2;
    const done = runWorkers(
      q,
      2,
      (key) => {
        calls.push(`${key}@${clock.now() % 100_000}`);
        if (key === 'flaky' && failures-- > 0) return Promise.reject(new Error('boom'));
        return Promise.resolve(key === 'periodic' ? { requeueAfterMs: 1000 } : undefined);
      },
      clock,
    );
    q.add('flaky');
    q.add('periodic');
    await flushPromises();
    await clock.advance(1000);
    q.shutdown();
    await done;
    expect(calls.filter((c) => c.startsWith('flaky'))).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('periodic'))).toHaveLength(2);
  });
});
