import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NANOS_PER_UNIT } from '../cost/money.ts';
import { policySpecSchema } from '../crds/aicost-policy.ts';
import type { RecentWindows } from '../ledger/accrual.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { LedgerStore } from '../ledger/store.ts';
import { jobRow, nodeRow } from '../testing/ledger-rows.ts';
import { MemorySink } from '../testing/memory-sink.ts';
import { BudgetSpend, type BudgetScope } from './budget-spend.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 23); // Monday: a weekly period starts
const $ = (dollars: number) => BigInt(dollars) * NANOS_PER_UNIT;

class CountingSink extends MemorySink {
  readonly gets: string[] = [];
  override get(key: string) {
    this.gets.push(key);
    return super.get(key);
  }
}

let uid = 0;
const row = (start: number, team: string, dollars: number, over: Partial<LedgerRow> = {}): LedgerRow =>
  jobRow({
    windowStartMs: start,
    windowEndMs: start + HOUR,
    namespace: `ml-${team}`,
    labels: { team },
    workloadUid: `uid-${uid++}`,
    cost: $(dollars),
    ...over,
  });

const alpha = (over: Record<string, unknown> = {}): BudgetScope => ({
  policy: 'alpha',
  spec: policySpecSchema.parse({
    selector: { matchLabels: { team: 'alpha' } },
    rules: { budget: { amount: '1' } },
    ...over,
  }),
  fromMs: T - 2 * HOUR,
  periodStartMs: T - HOUR,
});

const recent = (start: number, dollars: number, throughMs: number): RecentWindows => ({
  windows: [{ windowStartMs: start, rows: [row(start, 'alpha', dollars)], targets: [] }],
  throughMs,
});

async function world() {
  const sink = new CountingSink();
  const store = new LedgerStore(sink);
  await store.writeWindow('prod-1', T - 2 * HOUR, [
    row(T - 2 * HOUR, 'alpha', 1),
    row(T - 2 * HOUR, 'beta', 2),
    row(T - 2 * HOUR, 'alpha', 7, { currency: 'EUR' }),
    nodeRow({ windowStartMs: T - 2 * HOUR, windowEndMs: T - HOUR, cost: $(5) }),
  ]);
  // The window before the open one is only a piece: its file is queued (a failed write being retried).
  await store.writePiece('prod-1', T - HOUR, 'accountant', [row(T - HOUR, 'alpha', 3)]);
  const spend = new BudgetSpend({
    store,
    clusterId: 'prod-1',
    windowMs: HOUR,
    protectedNamespaces: new Set(['kube-system']),
    log: pino({ level: 'silent' }),
  });
  return { sink, store, spend };
}

const dollars = (series: ReadonlyMap<number, bigint>) =>
  [...series].sort(([a], [b]) => a - b).map(([h, cost]) => [(h - T) / HOUR, Number(cost / NANOS_PER_UNIT)]);

describe('BudgetSpend', () => {
  it('adds the stored windows, pieces included, to the recent ones, in the scope and currency', async () => {
    const { spend } = await world();
    const got = (await spend.spend([alpha()], recent(T, 4, T + HOUR / 2), 'USD', T + HOUR / 2)).get('alpha');
    // Hours from T: -2 (its file), -1 (its piece), 0 (memory, up to T+30m). Beta, EUR and the node left out.
    expect(dollars(got?.series ?? new Map())).toEqual([
      [-2, 1],
      [-1, 3],
      [0, 4],
    ]);
    // The window of T-2h ended before the period: its namespace spend is not the period's.
    expect([...(got?.namespaces ?? [])]).toEqual([['ml-alpha', $(7)]]);
  });

  it('counts the idle pool alpha owns (--idle-owner-label team) in its budget, with no namespace to notify', async () => {
    const { spend } = await world();
    const pool = nodeRow({
      workloadName: 'gpu-alpha',
      workloadUid: 'node-gpu-alpha',
      windowStartMs: T,
      windowEndMs: T + HOUR,
      team: 'alpha',
      labels: { team: 'alpha' },
      idleOwner: 'alpha',
      cost: $(2),
    });
    const withPool: RecentWindows = {
      windows: [{ windowStartMs: T, rows: [row(T, 'alpha', 4), pool], targets: [] }],
      throughMs: T + HOUR,
    };
    const got = (await spend.spend([alpha()], withPool, 'USD', T + HOUR)).get('alpha');
    // Hour 0: alpha's workload 4 and its pool 2; the unowned node of T-2h is still left out.
    expect(dollars(got?.series ?? new Map())).toEqual([
      [-2, 1],
      [-1, 3],
      [0, 6],
    ]);
    expect([...(got?.namespaces ?? [])]).toEqual([['ml-alpha', $(7)]]);
  });

  it('reads a window file once, lists again every 5 minutes, and reads a piece until its file is written', async () => {
    const { sink, store, spend } = await world();
    const at = (nowMs: number) => spend.spend([alpha()], recent(T, 4, T + 60_000), 'USD', nowMs);
    await at(T + 60_000);
    expect(sink.gets.length).toBe(2); // the file of T-2h, the piece of T-1h
    await at(T + 120_000); // within 5 minutes: memory only
    expect(sink.gets.length).toBe(2);
    await store.writeWindow('prod-1', T - HOUR, [row(T - HOUR, 'alpha', 3)]);
    sink.gets.length = 0;
    const later = await at(T + 60_000 + 5 * 60_000);
    expect(sink.gets).toEqual([expect.stringContaining('window-20261122T230000Z.parquet')]);
    expect(dollars(later.get('alpha')?.series ?? new Map())).toEqual([
      [-2, 1],
      [-1, 3],
      [0, 4],
    ]);
  });

  it('reads each file once for all the budgets that need it, and again for a budget whose period changed', async () => {
    const { sink, spend } = await world();
    const beta: BudgetScope = {
      ...alpha(),
      policy: 'beta',
      spec: policySpecSchema.parse({ selector: { matchLabels: { team: 'beta' } }, rules: { budget: { amount: '1' } } }),
    };
    const both = await spend.spend([alpha(), beta], recent(T, 4, T + 60_000), 'USD', T + 60_000);
    expect(sink.gets.length).toBe(2); // the file of T-2h and the piece of T-1h, once for both budgets
    expect(dollars(both.get('beta')?.series ?? new Map())).toEqual([[-2, 2]]);
    sink.gets.length = 0;
    // A minute later alpha's period starts anew (its start moved): alpha reads again, beta does not.
    const moved = { ...alpha(), periodStartMs: T - 2 * HOUR };
    const again = await spend.spend([moved, beta], recent(T, 4, T + 120_000), 'USD', T + 120_000);
    expect(sink.gets.length).toBe(2);
    expect([...(again.get('alpha')?.namespaces ?? [])]).toEqual([['ml-alpha', $(8)]]);
    expect(dollars(again.get('beta')?.series ?? new Map())).toEqual([[-2, 2]]);
  });

  it('lists again when a window has left the accountant memory, and reads again for a new scope', async () => {
    const { sink, store, spend } = await world();
    await spend.spend([alpha()], recent(T, 4, T + 60_000), 'USD', T + 60_000);
    await store.writeWindow('prod-1', T, [row(T, 'alpha', 6)]);
    sink.gets.length = 0;
    // One minute later the accountant holds only T+1h: T's file is read, though 5 minutes have not passed.
    const next = await spend.spend([alpha()], recent(T + HOUR, 1, T + HOUR + 60_000), 'USD', T + 2 * 60_000);
    expect(sink.gets).toEqual([
      expect.stringContaining('window-20261122T230000Z.accountant.piece'),
      expect.stringContaining('window-20261123T000000Z.parquet'),
    ]);
    expect(dollars(next.get('alpha')?.series ?? new Map())).toEqual([
      [-2, 1],
      [-1, 3],
      [0, 6],
      [1, 1],
    ]);
    sink.gets.length = 0;
    const beta = {
      ...alpha(),
      policy: 'beta',
      spec: policySpecSchema.parse({ selector: { matchLabels: { team: 'beta' } }, rules: { budget: { amount: '1' } } }),
    };
    const got = await spend.spend([beta], recent(T + HOUR, 1, T + HOUR + 60_000), 'USD', T + 3 * 60_000);
    expect(sink.gets.length).toBe(3);
    expect(dollars(got.get('beta')?.series ?? new Map())).toEqual([[-2, 2]]);
  });
});
