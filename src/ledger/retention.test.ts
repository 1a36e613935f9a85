import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { snapshotJson } from './durable.ts';
import { LocalSink } from './local-sink.ts';
import { DAY_MS, LedgerRetention, planRetention, retentionDue } from './retention.ts';
import type { ObjectSink } from './sink.ts';
import { LedgerStore } from './store.ts';

const at = (iso: string) => Date.parse(iso);
const DATES = ['2025-10-01', '2025-10-02', '2025-10-03', '2026-11-04', '2026-11-05'];

describe('planRetention', () => {
  it.each([
    // [case, now, retention (days), snapshot through, dates to drop]
    ['400 days: kept while its last window is younger', '2026-11-05T12:00Z', 400, '2026-11-05T11:00Z', []],
    [
      'the partition ends exactly at the cut-off: dropped',
      '2026-11-06T00:00Z',
      400,
      '2026-11-05T23:00Z',
      ['2025-10-01'],
    ],
    ['a millisecond before the cut-off: kept', '2026-11-05T23:59:59.999Z', 400, '2026-11-05T23:00Z', []],
    ['a day later, the next one', '2026-11-07T00:00Z', 400, '2026-11-06T23:00Z', ['2025-10-01', '2025-10-02']],
    ['0 keeps everything', '2030-01-01T00:00Z', 0, '2029-12-31T23:00Z', []],
    ['no state snapshot: nothing is dropped (a restart reads every window)', '2030-01-01T00:00Z', 1, undefined, []],
    [
      'a partition the snapshot does not cover is kept, however old',
      '2030-01-01T00:00Z',
      1,
      '2025-10-03T05:00Z',
      ['2025-10-01', '2025-10-02'],
    ],
    [
      'a day of retention never drops today or yesterday',
      '2026-11-05T00:30Z',
      1,
      '2026-11-05T00:00Z',
      ['2025-10-01', '2025-10-02', '2025-10-03'],
    ],
  ])('%s', (_case, now, days, through, drop) => {
    const input = {
      nowMs: at(now),
      retentionMs: days * DAY_MS,
      dates: DATES,
      snapshotThroughMs: through === undefined ? undefined : at(through),
    };
    expect(planRetention(input)).toEqual(drop);
  });

  it('lists each date once, oldest first, and ignores what is not a real date', () => {
    const dates = ['2026-01-02', '2026-01-01', '2026-01-02', '2026-02-30', 'nope', '2026-1-1'];
    const input = {
      nowMs: at('2027-01-01T00:00Z'),
      retentionMs: DAY_MS,
      dates,
      snapshotThroughMs: at('2026-12-31T00:00Z'),
    };
    expect(planRetention(input)).toEqual(['2026-01-01', '2026-01-02']);
  });
});

describe('retentionDue', () => {
  it.each([
    ['never ran', undefined, '2026-11-05T00:00Z', true],
    ['ran an hour ago', '2026-11-04T23:00Z', '2026-11-05T00:00Z', false],
    ['ran a day ago to the millisecond', '2026-11-04T00:00Z', '2026-11-05T00:00Z', true],
    ["a record a few seconds ahead (another leader's clock)", '2026-11-05T00:00:05Z', '2026-11-05T00:00Z', false],
    ['a record more than a day ahead (a wrong clock)', '2026-11-07T00:00Z', '2026-11-05T00:00Z', true],
  ])('%s', (_case, last, now, due) => {
    expect(retentionDue(last === undefined ? undefined : at(last), at(now))).toBe(due);
  });
});

const log = pino({ level: 'silent' });
const CLUSTER = 'prod-1';

/** A ledger with a window at 10:00 on each of the days, its state snapshot through `throughIso`, and another cluster's windows. */
async function ledger(sink: ObjectSink, days: readonly string[], throughIso: string): Promise<LedgerStore> {
  const store = new LedgerStore(sink);
  for (const clusterId of [CLUSTER, 'prod-2'])
    for (const day of days) {
      const start = at(`${day}T10:00Z`);
      const w = { clusterId, windowStartMs: start, windowEndMs: start + HOUR_MS };
      await store.writeWindow(clusterId, start, [jobRow(w), nodeRow(w)]);
    }
  const pieceStart = at(`${days[0] ?? ''}T11:00Z`);
  const w = { clusterId: CLUSTER, windowStartMs: pieceStart, windowEndMs: pieceStart + HOUR_MS };
  await store.writePiece(CLUSTER, pieceStart, 'accountant', [jobRow(w)]);
  await store.writeState(CLUSTER, snapshotJson(CLUSTER, { throughMs: at(throughIso), targets: new Map() }));
  return store;
}

/** The retention of CLUSTER on `store`, `days` long, at a fixed `now`. */
const retentionOn = (store: LedgerStore, days: number, now: string | (() => number)) =>
  new LedgerRetention({
    store,
    clusterId: CLUSTER,
    retentionMs: days * DAY_MS,
    now: typeof now === 'string' ? () => at(now) : now,
    log,
  });

const dates = async (store: LedgerStore, clusterId: string) => [
  ...new Set((await store.windows(clusterId)).map((w) => new Date(w.windowStartMs).toISOString().slice(0, 10))),
];

describe('LedgerRetention', () => {
  const days = ['2025-01-01', '2025-01-02', '2026-01-01'];

  it("deletes its own cluster's old partitions, pieces included, once a day (MemorySink)", async () => {
    const sink = new MemorySink();
    const store = await ledger(sink, days, '2026-01-01T11:00Z');
    let nowMs = at('2026-01-02T00:00Z');
    const retention = retentionOn(store, 30, () => nowMs);
    expect(await retention.run()).toBe(DAY_MS);
    expect(await dates(store, CLUSTER)).toEqual(['2026-01-01']);
    expect(await dates(store, 'prod-2')).toEqual(days);
    expect([...sink.objects.keys()].filter((k) => k.startsWith(`cluster=${CLUSTER}/date=2025`))).toEqual([]);

    // A new leader an hour later does not run it again: the record says when the last pass ran.
    nowMs += HOUR_MS;
    const deletesBefore = sink.objects.size;
    const next = retentionOn(store, 30, () => nowMs);
    expect(await next.run()).toBe(DAY_MS - HOUR_MS);
    expect(sink.objects.size).toBe(deletesBefore);
  });

  it('keeps what the state snapshot does not cover yet', async () => {
    const store = await ledger(new MemorySink(), days, '2025-01-02T11:00Z');
    const retention = retentionOn(store, 1, '2026-06-01T00:00Z');
    await retention.run();
    expect(await dates(store, CLUSTER)).toEqual(['2025-01-02', '2026-01-01']);
  });

  it('fails when the sink does, and runs again on the next call', async () => {
    const sink = new MemorySink();
    const store = await ledger(sink, days, '2026-01-01T11:00Z');
    const retention = retentionOn(store, 1, '2026-06-01T00:00Z');
    sink.kill();
    await expect(retention.run()).rejects.toThrow('killed');
    const again = retentionOn(new LedgerStore(sink.reopen()), 1, '2026-06-01T00:00Z');
    await again.run();
    expect(await dates(new LedgerStore(sink.reopen()), CLUSTER)).toEqual(['2026-01-01']);
  });

  describe('on a local directory', () => {
    let dir = '';
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('removes the partition directories it empties and leaves foreign files alone', async () => {
      dir = await mkdtemp(join(tmpdir(), 'aicost-retention-'));
      const store = await ledger(await LocalSink.open(dir), days, '2026-01-01T11:00Z');
      await writeFile(join(dir, `cluster=${CLUSTER}`, 'date=2025-01-02', 'notes.txt'), 'mine');
      const retention = retentionOn(store, 30, '2026-01-02T00:00Z');
      await retention.run();
      expect(await readdir(join(dir, `cluster=${CLUSTER}`))).toEqual(['date=2025-01-02', 'date=2026-01-01']);
      expect(await readdir(join(dir, `cluster=${CLUSTER}`, 'date=2025-01-02'))).toEqual(['notes.txt']);
      expect((await readdir(join(dir, 'cluster=prod-2'))).length).toBe(3);
      expect(await readdir(join(dir, 'state', `cluster=${CLUSTER}`))).toEqual(['cumulative.json', 'retention.json']);
    });
  });
});
