import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeKube } from '../testing/fake-kube.ts';
import { WATCH_BACKOFF } from './backoff.ts';
import { FakeClock } from './clock.ts';
import { Reflector, type KubeObject } from './reflector.ts';

const PODS = '/api/v1/namespaces/ml/pods';

/** A pods reflector on `api` whose jitter is fixed at `random`, with what its hooks and handlers saw. */
function podsReflector(api: FakeKube, clock: FakeClock, random = 0) {
  const synced: boolean[] = [];
  const deletions: { key: string; unwatchedSinceMs: number | undefined }[] = [];
  const reflector = new Reflector<string>(
    {
      name: 'pods',
      path: '/api/v1/pods',
      project: (pod: KubeObject) => pod.metadata?.name,
      backoff: { ...WATCH_BACKOFF, random: () => random },
    },
    api,
    clock,
    pino({ level: 'silent' }),
    { onSynced: (_name, isSynced) => synced.push(isSynced) },
  );
  reflector.onChange((key, current) => {
    if (current === undefined) deletions.push({ key, unwatchedSinceMs: reflector.unwatchedSinceMs });
  });
  return { reflector, synced, deletions };
}

const lists = (api: FakeKube) => api.requests.filter((r) => r.verb === 'list').length;

/** Advances `ms` a second at a time, so that work that spins without timers shows in the counts. */
async function secondBySecond(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 1000) await clock.advance(1000);
}

describe('the reflector', () => {
  // Relisting at once on 410 gave 5,000 lists in half a second; a backoff reset by every list gave 601 in 10 min.
  it.each([0, 0.999])('lists at most 20 times in 10 minutes of watches that all answer 410 (jitter %s)', async (r) => {
    const api = new FakeKube();
    api.put(PODS, { metadata: { name: 'a', namespace: 'ml' } });
    api.expireWatches('/api/v1/pods');
    const clock = new FakeClock();
    const { reflector } = podsReflector(api, clock, r);
    await reflector.start();
    await secondBySecond(clock, 600_000);
    expect(lists(api)).toBeGreaterThanOrEqual(r === 0 ? 15 : 10);
    expect(lists(api)).toBeLessThanOrEqual(20);
    // Each list succeeded: the store is synced, only never watched for long.
    expect([reflector.synced, reflector.store.size]).toEqual([true, 1]);
    reflector.stop();
  });

  it('backs off again from 1 s once a watch has stayed up for two minutes, not after a shorter one', async () => {
    const api = new FakeKube();
    const clock = new FakeClock();
    const { reflector } = podsReflector(api, clock);
    api.expireWatches('/api/v1/pods', 4);
    await reflector.start();
    await secondBySecond(clock, 16_000); // four expiries: lists 1, 2, 4 and 8 s after each; the fifth watch holds
    expect(lists(api)).toBe(5);
    await secondBySecond(clock, 60_000);
    api.dropWatches(); // after a minute up: the backoff goes on, 16 s
    await secondBySecond(clock, 15_000);
    expect(lists(api)).toBe(5);
    await secondBySecond(clock, 1000);
    expect(lists(api)).toBe(6);
    await secondBySecond(clock, 120_000);
    api.dropWatches(); // after two minutes up: 1 s again
    await secondBySecond(clock, 1000);
    expect(lists(api)).toBe(7);
    reflector.stop();
  });

  it('is not synced, and says why, while its relists fail with 500; synced again once one succeeds', async () => {
    const api = new FakeKube();
    api.put(PODS, { metadata: { name: 'a', namespace: 'ml' } });
    api.put(PODS, { metadata: { name: 'b', namespace: 'ml' } });
    const clock = new FakeClock();
    const { reflector, synced, deletions } = podsReflector(api, clock);
    await reflector.start();
    expect([reflector.synced, reflector.problem, synced]).toEqual([true, undefined, [true]]);

    // The watch drops and every list fails for five minutes; meanwhile pod b is deleted, unseen.
    const lostAt = clock.now();
    api.fail('list', '/api/v1/pods', 500, 10);
    api.dropWatches();
    await clock.advance(60_000);
    api.remove(PODS, 'b');
    expect([reflector.synced, reflector.problem]).toEqual([false, 'list failed: 500 Injected']);
    expect(reflector.store.has('ml/b')).toBe(true);
    await secondBySecond(clock, 240_000);
    // Lists at 1, 3, 7, 15, 31, 63, 123, 183, 243 s (the backoff doubles to 60 s), each failing.
    expect([reflector.synced, lists(api)]).toEqual([false, 10]);

    await secondBySecond(clock, 70_000); // the tenth fails at 303 s, the next succeeds at 363 s
    expect([reflector.synced, reflector.problem, lists(api)]).toEqual([true, undefined, 12]);
    expect([...reflector.store.keys()]).toEqual(['ml/a']);
    // The deletion is dated no later than the moment the watch was lost: the last time b was known to exist.
    expect(deletions).toEqual([{ key: 'ml/b', unwatchedSinceMs: lostAt }]);
    expect(synced).toEqual([true, ...Array<boolean>(10).fill(false), true]);
    // The watch is back: a deletion now is seen as it happens.
    api.remove(PODS, 'a');
    expect(deletions.at(-1)).toEqual({ key: 'ml/a', unwatchedSinceMs: undefined });
    reflector.stop();
  });
});
