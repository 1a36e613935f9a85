/**
 * Each budget's spend by hour, for the policy pass: the durable ledger's windows (deleted workloads included)
 * plus the windows the accountant holds in memory (the last one that ended, and the open one up to its last
 * cycle), so the spend is exact up to the last accounting cycle and the same after a restart.
 *
 * The ledger is read sparingly. Each budget keeps, for its period and scope, the hours of the window files it
 * has read; a file is read once, since a finished window is never rewritten. The listing of the range (one
 * LIST per date partition) is repeated only at start, when a budget's period or scope changes, every
 * `refreshMs` (5 minutes), and when a window has left the accountant's memory since the last one. A window
 * that is still only pieces (its file not written yet: a failed write being retried) is read again at each
 * listing until its file exists.
 */
import type { Logger } from 'pino';
import { addSpread, type HourlySpend } from '../budget/hourly.ts';
import { rowInScope, scopeKey } from '../budget/scope.ts';
import type { Nanos } from '../cost/money.ts';
import type { PolicySpec } from '../crds/aicost-policy.ts';
import type { RecentWindows } from '../ledger/accrual.ts';
import { windowKey } from '../ledger/layout.ts';
import type { LedgerRow } from '../ledger/row.ts';
import type { LedgerStore, StoredWindow } from '../ledger/store.ts';

export const BUDGET_REFRESH_MS = 5 * 60_000;

export interface BudgetSpendDeps {
  readonly store: LedgerStore;
  readonly clusterId: string;
  /** --ledger-window: windows start at multiples of it. */
  readonly windowMs: number;
  readonly protectedNamespaces: ReadonlySet<string>;
  readonly log: Logger;
  readonly refreshMs?: number;
}

/** One budget's scope, and the span it needs: from `fromMs` (period start or forecast history) to now. */
export interface BudgetScope {
  readonly policy: string;
  readonly spec: PolicySpec;
  readonly fromMs: number;
  readonly periodStartMs: number;
}

export interface ScopeSpend {
  /** By UTC hour, up to the recent windows' throughMs. */
  readonly series: HourlySpend;
  /** Spend of the rows that overlap the period, by namespace. */
  readonly namespaces: Map<string, Nanos>;
}

interface Entry {
  readonly key: string;
  readonly scope: BudgetScope;
  readonly currency: string;
  /** From window files, each read once. */
  readonly stored: ScopeSpend;
  readonly folded: Set<number>;
  /** From windows that were only pieces at the last listing. */
  provisional: ScopeSpend;
}

const empty = (): ScopeSpend => ({ series: new Map(), namespaces: new Map() });

export class BudgetSpend {
  private readonly deps: BudgetSpendDeps;
  private entries = new Map<string, Entry>();
  private listedAtMs: number | undefined;
  private recentStartAtListing = -Infinity;

  constructor(deps: BudgetSpendDeps) {
    this.deps = deps;
  }

  /** Forgets what was read (a new leader reads again). */
  reset(): void {
    this.entries = new Map();
    this.listedAtMs = undefined;
    this.recentStartAtListing = -Infinity;
  }

  /**
   * The spend of each scope from its fromMs up to `recent.throughMs`, in `currency` (rows in another are left
   * out). Reads the ledger when due; throws when it cannot be read.
   */
  async spend(
    scopes: readonly BudgetScope[],
    recent: RecentWindows,
    currency: string,
    nowMs: number,
  ): Promise<Map<string, ScopeSpend>> {
    const recentStart = recent.windows[0]?.windowStartMs ?? recent.throughMs;
    const entries = new Map<string, Entry>();
    let changed = false;
    for (const scope of scopes) {
      const key = JSON.stringify([scopeKey(scope.spec), scope.periodStartMs, currency]);
      const kept = this.entries.get(scope.policy);
      changed ||= kept?.key !== key;
      entries.set(
        scope.policy,
        kept?.key === key ? kept : { key, scope, currency, stored: empty(), folded: new Set(), provisional: empty() },
      );
    }
    this.entries = entries;
    const refreshMs = this.deps.refreshMs ?? BUDGET_REFRESH_MS;
    const due =
      changed ||
      this.listedAtMs === undefined ||
      nowMs - this.listedAtMs >= refreshMs ||
      recentStart > this.recentStartAtListing;
    if (due && entries.size > 0) await this.readStored([...entries.values()], recentStart, nowMs);
    const out = new Map<string, ScopeSpend>();
    for (const [policy, e] of entries) out.set(policy, this.merged(e, recent, recentStart));
    return out;
  }

  /** Lists the windows before the recent ones and reads those some budget has not read yet. */
  private async readStored(entries: readonly Entry[], toMs: number, nowMs: number): Promise<void> {
    const { store, clusterId, windowMs, log } = this.deps;
    const fromMs = Math.floor(Math.min(...entries.map((e) => e.scope.fromMs)) / windowMs) * windowMs;
    const byStart = new Map<number, StoredWindow[]>();
    for (const w of await store.windowsFrom(clusterId, fromMs, toMs)) {
      if (w.windowStartMs >= toMs) continue;
      byStart.set(w.windowStartMs, [...(byStart.get(w.windowStartMs) ?? []), w]);
    }
    for (const e of entries) e.provisional = empty();
    let read = 0;
    for (const [start, group] of [...byStart].sort(([a], [b]) => a - b)) {
      const needing = entries.filter((e) => start + windowMs > e.scope.fromMs && !e.folded.has(start));
      if (needing.length === 0) continue;
      const window = await readWindow(store, clusterId, start, group);
      read++;
      for (const e of needing) {
        this.fold(e, window.compacted ? e.stored : e.provisional, window.rows, Infinity);
        if (window.compacted) e.folded.add(start);
      }
    }
    this.listedAtMs = nowMs;
    this.recentStartAtListing = toMs;
    if (read > 0) log.debug({ windows: read, budgets: entries.length }, 'read ledger windows for budgets');
  }

  /** Adds the rows in the entry's scope and currency to `into`, each up to min(its window end, throughMs). */
  private fold(e: Entry, into: ScopeSpend, rows: readonly LedgerRow[], throughMs: number): void {
    for (const row of rows) {
      if (row.cost === 0n || row.currency !== e.currency) continue;
      if (!rowInScope(e.scope.spec, row, this.deps.protectedNamespaces)) continue;
      addSpread(into.series, row.cost, row.windowStartMs, Math.min(row.windowEndMs, throughMs));
      // Owned idle (a Node row, scope.ts) has no namespace to send a threshold's Event to.
      if (row.windowEndMs > e.scope.periodStartMs && row.namespace !== '')
        into.namespaces.set(row.namespace, (into.namespaces.get(row.namespace) ?? 0n) + row.cost);
    }
  }

  /** The stored and provisional hours before the recent windows, plus the recent windows' rows. */
  private merged(e: Entry, recent: RecentWindows, recentStart: number): ScopeSpend {
    const out = empty();
    for (const part of [e.stored, e.provisional]) {
      for (const [h, cost] of part.series) if (h < recentStart) out.series.set(h, (out.series.get(h) ?? 0n) + cost);
      for (const [ns, cost] of part.namespaces) out.namespaces.set(ns, (out.namespaces.get(ns) ?? 0n) + cost);
    }
    for (const w of recent.windows) this.fold(e, out, w.rows, recent.throughMs);
    return out;
  }
}

/** A listed window's rows: its file, else its pieces (or its file, when it was compacted since the listing). */
async function readWindow(
  store: LedgerStore,
  clusterId: string,
  start: number,
  group: readonly StoredWindow[],
): Promise<{ compacted: boolean; rows: LedgerRow[] }> {
  const file = group.find((w) => w.pieceId === undefined);
  const fromFile = async () => ({
    compacted: true,
    rows: (await store.readFile(windowKey(clusterId, start)))?.rows ?? [],
  });
  if (file) return fromFile();
  const rows: LedgerRow[] = [];
  for (const piece of group) {
    const got = await store.readFile(piece.key);
    if (!got) return fromFile();
    rows.push(...got.rows);
  }
  return { compacted: false, rows };
}
