import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../controller/clock.ts';
import { createMetrics } from '../controller/metrics.ts';
import { runWorkers, WorkQueue } from '../controller/workqueue.ts';
import { FakeKube } from '../testing/fake-kube.ts';
import { AnnotationWriter, type WriteTarget } from './annotation-writer.ts';

const PODS = '/api/v1/namespaces/ml/pods';

/** A writer on the in-memory API with `names` as pods, run by four workers as src/main.ts runs it. */
function start(names: readonly string[], limits: { annotateIntervalMs: number; writeQps: number; writeBurst: number }) {
  const api = new FakeKube();
  for (const name of names) api.put(PODS, { metadata: { name, namespace: 'ml' } });
  const clock = new FakeClock();
  const queue = new WorkQueue('annotations', clock);
  const writer = new AnnotationWriter({
    client: api,
    clock,
    log: pino({ level: 'silent' }),
    metrics: createMetrics([], 10),
    queue,
    ...limits,
  });
  const workers = runWorkers(queue, 4, (key) => writer.reconcile(key), clock);
  const target = (name: string): WriteTarget => ({ kind: 'Pod', namespace: 'ml', name, uid: `uid-${name}`, id: name });
  /** Offers a pod's cost, displayed as itself, with the shape of its figures. */
  const offer = (name: string, cost: string, shape?: string) =>
    writer.offer(target(name), cost, () => ({ 'aicost.dev/cost': cost }), shape);
  const patches = () => api.requests.filter((r) => r.verb === 'patch').map((r) => r.path.slice(PODS.length + 1));
  const cost = (name: string) => api.object(`${PODS}/${name}`)?.metadata.annotations?.['aicost.dev/cost'];
  return {
    clock,
    offer,
    patches,
    cost,
    async stop() {
      queue.shutdown();
      await workers;
    },
  };
}

describe('annotation writer', () => {
  it('writes an object at most once per --annotate-interval: a change inside it waits, with the latest values', async () => {
    const w = start(['a'], { annotateIntervalMs: 300_000, writeQps: 100, writeBurst: 100 });
    expect(w.offer('a', '1.00')).toBe(true);
    await w.clock.advance(0);
    expect([w.patches(), w.cost('a')]).toEqual([['a'], '1.00']);

    // Two changes one and two minutes later are held until five minutes after the write, then written once.
    await w.clock.advance(60_000);
    expect(w.offer('a', '2.00')).toBe(true);
    await w.clock.advance(60_000);
    expect(w.offer('a', '3.00')).toBe(true);
    await w.clock.advance(179_999);
    expect([w.patches(), w.cost('a')]).toEqual([['a'], '1.00']);
    await w.clock.advance(1);
    expect([w.patches(), w.cost('a')]).toEqual([['a', 'a'], '3.00']);
    // Nothing changed since: nothing is scheduled.
    expect(w.offer('a', '3.00')).toBe(false);
    await w.stop();
  });

  it('writes a change of shape (a figure known or unknown) at once, inside --annotate-interval', async () => {
    const w = start(['a'], { annotateIntervalMs: 300_000, writeQps: 100, writeBurst: 100 });
    w.offer('a', '1.00', '-');
    await w.clock.advance(0);
    // A figure becomes known a minute later: written then, not four minutes later.
    await w.clock.advance(60_000);
    expect(w.offer('a', '2.00', '+')).toBe(true);
    await w.clock.advance(0);
    expect([w.patches(), w.cost('a')]).toEqual([['a', 'a'], '2.00']);
    // Its value changes, the shape does not: held by the interval again, from the last write.
    await w.clock.advance(60_000);
    expect(w.offer('a', '3.00', '+')).toBe(true);
    await w.clock.advance(239_999);
    expect(w.cost('a')).toBe('2.00');
    await w.clock.advance(1);
    expect([w.patches().length, w.cost('a')]).toEqual([3, '3.00']);
    await w.stop();
  });

  it('writes a burst beyond --write-burst as tokens come back at --write-qps', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const w = start(names, { annotateIntervalMs: 0, writeQps: 2, writeBurst: 3 });
    for (const name of names) w.offer(name, '1.00');
    const writes: number[] = [];
    for (let ms = 0; ms <= 2000; ms += 250) {
      await w.clock.advance(ms === 0 ? 0 : 250);
      writes.push(w.patches().length);
    }
    // Three at once (the burst), then one every 500 ms (2 per second).
    expect(writes).toEqual([3, 3, 4, 4, 5, 5, 6, 6, 6]);
    expect(names.map(w.cost)).toEqual(Array(6).fill('1.00'));
    await w.stop();
  });
});
