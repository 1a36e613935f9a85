import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { duckdb, sqlString } from '../testing/duckdb.ts';
import { HOUR_MS, jobRow, nodeRow, WINDOW_START_MS } from '../testing/ledger-rows.ts';
import { LocalSink } from './local-sink.ts';
import type { LedgerRow } from './row.ts';
import { LedgerStore, type LedgerRange, type WindowRows } from './store.ts';

let dir = '';
let sink: LocalSink;
let store: LedgerStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aicost-store-'));
  sink = await LocalSink.open(dir);
  store = new LedgerStore(sink);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DAY_MS = 24 * HOUR_MS;

/** The rows of one window: a Job with `cost` nano-units and a Node row. */
function windowRows(clusterId: string, startMs: number, cost = 1_000_000_001n): LedgerRow[] {
  const at = { clusterId, windowStartMs: startMs, windowEndMs: startMs + HOUR_MS };
  return [jobRow({ ...at, cost }), nodeRow(at)];
}

async function read(range: LedgerRange): Promise<WindowRows[]> {
  const windows: WindowRows[] = [];
  for await (const window of store.readRange(range)) windows.push(window);
  return windows;
}

async function starts(range: LedgerRange): Promise<string[]> {
  return (await read(range)).map((w) => `${w.clusterId} ${new Date(w.windowStartMs).toISOString()}`);
}

describe('LedgerStore', () => {
  it('round-trips every field of a window exactly', async () => {
    const rows = windowRows('prod-1', WINDOW_START_MS);
    const key = await store.writeWindow('prod-1', WINDOW_START_MS, rows);
    expect(key).toBe('cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet');
    expect(await read({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).toEqual([
      { clusterId: 'prod-1', windowStartMs: WINDOW_START_MS, compacted: true, rows },
    ]);
  });

  it('replaces a window written again, never adds to it', async () => {
    await store.writeWindow('prod-1', WINDOW_START_MS, windowRows('prod-1', WINDOW_START_MS, 5n));
    const again = windowRows('prod-1', WINDOW_START_MS, 7n);
    await store.writeWindow('prod-1', WINDOW_START_MS, again);
    expect(await sink.list('')).toEqual(['cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet']);
    expect((await read({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).map((w) => w.rows)).toEqual([again]);
  });

  describe('ranges: from inclusive, to exclusive, by window start', () => {
    const midnight = Date.UTC(2026, 10, 2); // 2026-11-02T00:00Z
    beforeEach(async () => {
      for (const startMs of [midnight - HOUR_MS, midnight, midnight + HOUR_MS, midnight + DAY_MS])
        for (const cluster of ['prod-1', 'prod-2'])
          await store.writeWindow(cluster, startMs, windowRows(cluster, startMs));
    });

    it.each<[string, LedgerRange, string[]]>([
      [
        'a window starting at from',
        { fromMs: midnight, toMs: midnight + 1, clusterId: 'prod-1' },
        ['prod-1 2026-11-02T00:00:00.000Z'],
      ],
      ['none starting at to', { fromMs: midnight - HOUR_MS + 1, toMs: midnight, clusterId: 'prod-1' }, []],
      [
        'one that began before from',
        { fromMs: midnight - 1, toMs: midnight + 1, clusterId: 'prod-1' },
        ['prod-1 2026-11-02T00:00:00.000Z'],
      ],
      [
        'across midnight',
        { fromMs: midnight - HOUR_MS, toMs: midnight + HOUR_MS, clusterId: 'prod-2' },
        ['prod-2 2026-11-01T23:00:00.000Z', 'prod-2 2026-11-02T00:00:00.000Z'],
      ],
      ['an empty range', { fromMs: midnight, toMs: midnight }, []],
      [
        'every cluster',
        { fromMs: midnight + HOUR_MS, toMs: midnight + DAY_MS + 1 },
        [
          'prod-1 2026-11-02T01:00:00.000Z',
          'prod-1 2026-11-03T00:00:00.000Z',
          'prod-2 2026-11-02T01:00:00.000Z',
          'prod-2 2026-11-03T00:00:00.000Z',
        ],
      ],
    ])('reads %s', async (_, range, expected) => {
      expect(await starts(range)).toEqual(expected);
    });

    it('lists only the date partitions of the range for one cluster', async () => {
      const prefixes: string[] = [];
      const list = sink.list.bind(sink);
      sink.list = (prefix) => (prefixes.push(prefix), list(prefix));
      await read({ fromMs: midnight, toMs: midnight + 2 * HOUR_MS, clusterId: 'prod-1' });
      expect(prefixes).toEqual(['cluster=prod-1/date=2026-11-02/']);
    });

    it('lets DuckDB read the directory with cluster and date as Hive columns and sum cost exactly', async () => {
      const glob = sqlString(`${dir}/**/*.parquet`);
      const { types, rows } = await duckdb(
        `select cluster, date, count(*) as n, sum(cost)::VARCHAR as cost, typeof(sum(cost)) as sum_type
         from read_parquet(${glob}, hive_partitioning = true, hive_types = {'cluster': VARCHAR})
         group by all order by all`,
      );
      expect(types).toMatchObject({ cluster: 'VARCHAR', date: 'DATE' });
      // Per window: 1.000000001 for the Job and 7.000000001 for the node.
      expect(rows).toEqual([
        { cluster: 'prod-1', date: '2026-11-01', n: '2', cost: '8.000000002', sum_type: 'DECIMAL(38,9)' },
        { cluster: 'prod-1', date: '2026-11-02', n: '4', cost: '16.000000004', sum_type: 'DECIMAL(38,9)' },
        { cluster: 'prod-1', date: '2026-11-03', n: '2', cost: '8.000000002', sum_type: 'DECIMAL(38,9)' },
        { cluster: 'prod-2', date: '2026-11-01', n: '2', cost: '8.000000002', sum_type: 'DECIMAL(38,9)' },
        { cluster: 'prod-2', date: '2026-11-02', n: '4', cost: '16.000000004', sum_type: 'DECIMAL(38,9)' },
        { cluster: 'prod-2', date: '2026-11-03', n: '2', cost: '8.000000002', sum_type: 'DECIMAL(38,9)' },
      ]);
    });
  });

  it('reads a window from its pieces until its file is written, then from the file alone', async () => {
    const [job, node] = windowRows('prod-1', WINDOW_START_MS);
    if (!job || !node) throw new Error('fixture');
    await store.writePiece('prod-1', WINDOW_START_MS, '1300', [job]);
    await store.writePiece('prod-1', WINDOW_START_MS, '1301', [node]);
    const range = { fromMs: WINDOW_START_MS, toMs: WINDOW_START_MS + 1, clusterId: 'prod-1' };
    expect(await read(range)).toEqual([
      { clusterId: 'prod-1', windowStartMs: WINDOW_START_MS, compacted: false, rows: [job, node] },
    ]);
    // A *.parquet glob sees no pieces: DuckDB users read whole windows only.
    expect((await sink.list('')).filter((k) => k.endsWith('.parquet'))).toEqual([]);

    const whole = [jobRow({ cost: 2n }), node];
    await store.writeWindow('prod-1', WINDOW_START_MS, whole);
    expect(await read(range)).toEqual([
      { clusterId: 'prod-1', windowStartMs: WINDOW_START_MS, compacted: true, rows: whole },
    ]);
    expect(await sink.list('')).toEqual(['cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet']);
  });

  it('takes the file when the pieces are deleted between the listing and the reading', async () => {
    const rows = windowRows('prod-1', WINDOW_START_MS);
    await store.writePiece('prod-1', WINDOW_START_MS, 'a', rows);
    const get = sink.get.bind(sink);
    sink.get = async (key) => {
      if (key.endsWith('.piece')) await store.writeWindow('prod-1', WINDOW_START_MS, rows); // compaction wins the race
      return get(key);
    };
    expect((await read({ fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).map((w) => [w.compacted, w.rows])).toEqual([
      [true, rows],
    ]);
  });

  it('lists windows and pieces, ignoring foreign files', async () => {
    await store.writeWindow('prod-1', WINDOW_START_MS, windowRows('prod-1', WINDOW_START_MS));
    await store.writePiece('prod-1', WINDOW_START_MS + HOUR_MS, 'p1', windowRows('prod-1', WINDOW_START_MS + HOUR_MS));
    await sink.put('cluster=prod-1/notes.txt', new Uint8Array([1]));
    await sink.put('README', new Uint8Array([1]));
    expect(await store.windows()).toEqual([
      {
        clusterId: 'prod-1',
        windowStartMs: WINDOW_START_MS,
        key: 'cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet',
      },
      {
        clusterId: 'prod-1',
        windowStartMs: WINDOW_START_MS + HOUR_MS,
        pieceId: 'p1',
        key: 'cluster=prod-1/date=2026-11-01/window-20261101T140000Z.p1.piece',
      },
    ]);
    expect(await store.windows('prod-2')).toEqual([]);
  });

  it.each<[string, LedgerRow[], string]>([
    ['an invalid row', [jobRow({ cost: -1n })], 'ledger row 0 of prod-1 at 1793538000000: cost is outside'],
    ['a row of another cluster', [jobRow({ clusterId: 'prod-2' })], 'clusterId is not prod-1'],
    ['a row of another window', [jobRow({ windowStartMs: 0 })], 'windowStartMs is not 1793538000000'],
    [
      'windows of two lengths',
      [jobRow(), nodeRow({ windowEndMs: WINDOW_START_MS + 1 })],
      "ledger row 1 of prod-1 at 1793538000000: windowEndMs differs from the first row's",
    ],
    [
      'a workload twice',
      [jobRow(), jobRow()],
      'workloadUid 6a1f0c2e-0000-4000-8000-000000000001 is in the window twice',
    ],
  ])('refuses to write %s, and writes nothing', async (_, rows, message) => {
    await expect(store.writeWindow('prod-1', WINDOW_START_MS, rows)).rejects.toThrow(message);
    expect(await sink.list('')).toEqual([]);
  });

  it('refuses a file that holds another window’s rows', async () => {
    await store.writeWindow('prod-1', WINDOW_START_MS, windowRows('prod-1', WINDOW_START_MS));
    const body = await sink.get('cluster=prod-1/date=2026-11-01/window-20261101T130000Z.parquet');
    await sink.put('cluster=prod-1/date=2026-11-01/window-20261101T140000Z.parquet', body ?? new Uint8Array());
    await expect(read({ fromMs: WINDOW_START_MS + HOUR_MS, toMs: WINDOW_START_MS + 2 * HOUR_MS })).rejects.toThrow(
      /window-20261101T140000Z.parquet in file:.* holds a row of prod-1 at 1793538000000/,
    );
  });

  it('names its sink', () => {
    expect(store.url).toBe(sink.url);
  });
});
