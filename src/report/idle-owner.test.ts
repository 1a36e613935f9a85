/**
 * Idle that lands on an owner (issue #18): Node rows whose idle a node label owns, in every view of `aicost
 * report`, to the nano-unit, by both engines. The ledger (docs/cost-model.md's worked example 5), by hand:
 *
 * cluster prod-1, window 2026-11-01T00:00Z:
 *   Job train-a (team alpha)                            1.000000001
 *   Deployment serve (namespace serving, team beta)     0.5
 *   Node gpu-1 idle, owned by alpha (team=alpha)        0.7
 *   Node gpu-2 idle, owned by gamma (team=gamma)        2.25   (a reserved pool nothing runs on)
 *   Node gpu-3 idle, no owner                           0.3
 *   Node gpu-4 idle, owned by beta under example.com/owner (no column of its own)   0.11
 * cluster prod-2, window 00:00Z, a file written before the idle_owner column:
 *   Job train-c (team beta)                             1
 *   Node gpu-9 idle                                     0.4
 * Total 6.260000001.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowKey } from '../ledger/layout.ts';
import { LocalSink } from '../ledger/local-sink.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import { encodeRowsBeforeNamespaceLabels } from '../testing/ledger-before-namespace-labels.ts';
import { HOUR_MS, jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { GroupSums, IDLE, reportRows, totals, type ReportRow } from './aggregate.ts';
import { groupsDuckDb, loadDuckDb } from './engine-duckdb.ts';
import { groupsJs } from './engine-js.ts';
import { decimal, formatReport } from './format.ts';
import type { IdleMode } from './options.ts';

const T0 = Date.UTC(2026, 10, 1);
const window = (clusterId: string) => ({ clusterId, windowStartMs: T0, windowEndMs: T0 + HOUR_MS });
const node = (name: string, cost: bigint, owner?: Partial<LedgerRow>) =>
  nodeRow({ workloadName: name, workloadUid: `node-${name}`, cost, idleOwner: '', ...owner });
const teamOwner = (team: string) => ({ team, labels: { team }, idleOwner: team });

const prod1: LedgerRow[] = [
  jobRow({
    workloadName: 'train-a',
    workloadUid: 'uid-a',
    team: 'alpha',
    labels: { team: 'alpha' },
    cost: 1_000_000_001n,
  }),
  jobRow({
    namespace: 'serving',
    workloadKind: 'Deployment',
    workloadName: 'serve',
    workloadUid: 'uid-serve',
    team: 'beta',
    labels: { team: 'beta' },
    jobOutcome: '',
    cost: 500_000_000n,
  }),
  node('gpu-1', 700_000_000n, teamOwner('alpha')),
  node('gpu-2', 2_250_000_000n, teamOwner('gamma')),
  node('gpu-3', 300_000_000n),
  node('gpu-4', 110_000_000n, { labels: { 'example.com/owner': 'beta' }, idleOwner: 'beta' }),
].map((r) => ({ ...r, ...window('prod-1') }));
const prod2: LedgerRow[] = [
  jobRow({
    workloadName: 'train-c',
    workloadUid: 'uid-c',
    team: 'beta',
    labels: { team: 'beta' },
    cost: 1_000_000_000n,
  }),
  nodeRow({ workloadName: 'gpu-9', workloadUid: 'node-gpu-9', cost: 400_000_000n }),
].map((r) => ({ ...r, ...window('prod-2') }));
// What prod-2's old file reads as: no idle_owner column, so unowned.
const rows = [...prod1, ...prod2.map((r) => ({ ...r, idleOwner: undefined }))];

/** Report rows as [keys..., cost, owned idle], exact decimals; owned idle '-' when the row has none. */
function report(by: string[], mode: IdleMode): string[][] {
  const sums = new GroupSums(by);
  sums.add(rows);
  return lines(reportRows(sums.groups(), mode, by));
}
const lines = (report: readonly ReportRow[]) =>
  report.map((r) => [...r.keys, decimal(r.cost), r.ownedIdle === undefined ? '-' : decimal(r.ownedIdle)]);

describe('idle owned by a team, in aicost report', () => {
  it('by team: an owned pool is its team’s cost, shown as idle; the rest is __idle__', () => {
    expect(report(['team'], 'separate')).toEqual([
      ['gamma', '2.25', '2.25'],
      ['alpha', '1.700000001', '0.70'],
      ['beta', '1.50', '-'],
      [IDLE, '0.81', '-'],
    ]);
  });

  it('--idle pooled: the view of before, all idle in __idle__', () => {
    expect(report(['team'], 'pooled')).toEqual([
      ['beta', '1.50', '-'],
      ['alpha', '1.000000001', '-'],
      [IDLE, '3.76', '-'],
    ]);
  });

  it('--idle share: owned idle stays its owner’s, the idle of no one is shared by allocated cost', () => {
    // prod-1's 0.41 over alpha 1.000000001 and beta 0.5: 0.273333333 and 0.136666666, the nano-unit left
    // over to beta's larger remainder; prod-2's 0.4 all to beta. gamma owns idle only: no share.
    expect(report(['team'], 'share')).toEqual([
      ['gamma', '2.25', '2.25'],
      ['beta', '2.036666667', '-'],
      ['alpha', '1.973333334', '0.70'],
    ]);
  });

  it('by cluster and team: owned idle stays in its cluster', () => {
    expect(report(['cluster', 'team'], 'separate')).toEqual([
      ['prod-1', 'gamma', '2.25', '2.25'],
      ['prod-1', 'alpha', '1.700000001', '0.70'],
      ['prod-2', 'beta', '1.00', '-'],
      ['prod-1', 'beta', '0.50', '-'],
      ['prod-1', IDLE, '0.41', '-'],
      ['prod-2', IDLE, '0.40', '-'],
    ]);
  });

  it('by the owner label when it has no column: that label’s report holds it, --by team does not', () => {
    expect(report(['example.com/owner'], 'separate')).toEqual([
      ['', '2.500000001', '-'],
      ['beta', '0.11', '0.11'],
      [IDLE, '3.65', '-'],
    ]);
  });

  it('by namespace or workload: idle has none, so it is __idle__ whoever owns it', () => {
    expect(report(['namespace'], 'separate')).toEqual([
      ['ml-alpha', '2.000000001', '-'],
      ['serving', '0.50', '-'],
      [IDLE, '3.76', '-'],
    ]);
    expect(report(['workload'], 'separate').at(-1)).toEqual([IDLE, '3.76', '-']);
  });

  it.each<IdleMode>(['separate', 'share', 'pooled'])('--idle %s adds up to the ledger total exactly', (mode) => {
    for (const by of [['team'], ['cluster', 'team'], ['example.com/owner'], ['namespace', 'team'], ['model']]) {
      const sums = new GroupSums(by);
      sums.add(rows);
      expect(totals(reportRows(sums.groups(), mode, by))).toEqual(new Map([['USD', 6_260_000_001n]]));
    }
  });

  it('--efficiency: an owner’s GPU-hours hold its idle pool’s, as its cost does; no class takes them', () => {
    const sums = new GroupSums(['team'], undefined, false, true);
    sums.add(rows);
    const alpha = reportRows(sums.groups(), 'separate', ['team']).find((r) => r.keys[0] === 'alpha');
    // train-a's 8 GPU-hours (its training cost) and gpu-1's 8 idle ones.
    expect(alpha?.efficiency).toMatchObject({ gpuHours: 16_000_000_000n, trainingCost: 1_000_000_001n });
    expect(alpha?.ownedIdle).toBe(700_000_000n);
  });

  it('prints the idle column when the report holds owned idle, and not with --idle pooled', () => {
    const sums = new GroupSums(['team']);
    sums.add(rows);
    expect(formatReport(reportRows(sums.groups(), 'separate', ['team']), ['team'], 'csv')).toBe(
      [
        'team,cost,currency,idleCost',
        'gamma,2.25,USD,2.25',
        'alpha,1.700000001,USD,0.70',
        'beta,1.50,USD,0.00',
        '__idle__,0.81,USD,0.81',
      ].join('\r\n'),
    );
    const json = JSON.parse(
      formatReport(reportRows(sums.groups(), 'separate', ['team']), ['team'], 'json'),
    ) as unknown[];
    expect(json[0]).toEqual({
      team: 'gamma',
      cost: '2.25',
      currency: 'USD',
      idleCost: '2.25',
    });
    expect(formatReport(reportRows(sums.groups(), 'pooled', ['team']), ['team'], 'csv').split('\r\n')[0]).toBe(
      'team,cost,currency',
    );
    const table = formatReport(reportRows(sums.groups(), 'separate', ['team']), ['team'], 'table');
    expect(table.split('\n')[0]).toMatch(/^TEAM\s+COST\s+CURRENCY\s+IDLE$/);
  });
});

describe('docs/cost-model.md, worked example 5', () => {
  it('prints the tables of the page', () => {
    const doc = readFileSync(new URL('../../docs/cost-model.md', import.meta.url), 'utf8');
    const sums = new GroupSums(['team']);
    sums.add(rows);
    for (const mode of ['separate', 'pooled'] as const)
      expect(doc).toContain(`\n${formatReport(reportRows(sums.groups(), mode, ['team']), ['team'], 'table')}\n`);
  });
});

describe('idle owned by a team, by the DuckDB engine', () => {
  let dir = '';
  let store: LedgerStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aicost-idle-owner-'));
    const sink = await LocalSink.open(dir);
    store = new LedgerStore(sink);
    await store.writeWindow('prod-1', T0, prod1);
    await sink.put(windowKey('prod-2', T0), encodeRowsBeforeNamespaceLabels(prod2));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([[['team']], [['cluster', 'team']], [['example.com/owner']], [['namespace', 'model']], [['workload']]])(
    'sums what the JavaScript engine sums, by %j, in every view',
    async (by) => {
      const duckdb = await loadDuckDb();
      if (!duckdb) throw new Error('the tests need @duckdb/node-api');
      const scope = { fromMs: T0, toMs: T0 + HOUR_MS };
      const js = await groupsJs(store, scope, by);
      const db = await groupsDuckDb(duckdb, store, dir, scope, by);
      for (const mode of ['separate', 'share', 'pooled'] as const)
        expect(lines(reportRows(db, mode, by))).toEqual(lines(reportRows(js, mode, by)));
      // And both are the hand computation's.
      expect(lines(reportRows(db, 'separate', by))).toEqual(report(by, 'separate'));
      // The efficiency figures too, owned idle's GPU-hours in its owner's row.
      const efficiency = async (engine: 'js' | 'db') => {
        const groups =
          engine === 'js'
            ? await groupsJs(store, scope, by, true)
            : await groupsDuckDb(duckdb, store, dir, scope, by, true);
        return reportRows(groups, 'separate', by).map((r) => [r.keys, r.efficiency]);
      };
      expect(await efficiency('db')).toEqual(await efficiency('js'));
    },
  );
});
