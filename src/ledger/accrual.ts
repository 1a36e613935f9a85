/**
 * The ledger's rows from the accountant's cumulatives, window by window (issue #15). Each cycle hands in every
 * target's closing cumulative (a workload, a bare pod, a node's idle capacity); a window's row is
 * closing − opening, where the opening is the target's cumulative at the window's start. A cycle that
 * straddles a window boundary is split pro rata by seconds (cumulativeAt); a window that ends is finished
 * (its final rows, and every target's cumulative at its end for the state snapshot).
 *
 * Nothing here adds a cycle's delta to a stored sum: a window's rows are always recomputed from two
 * cumulatives, so writing them again (after a retry, a restart or a leader change) replaces and never adds.
 * Windows before the open one are closed: a span that reaches back before it (a restart after a long
 * outage, a workload back after a pause) is split from the open window's start.
 */
import { cumulativeAt, windowFigures, ZERO, type Cumulative } from './cumulative.ts';
import { computeOf, type LedgerRow } from './row.ts';
import { windowStartOf } from './window-split.ts';

/** A row's fields besides its cluster, window, figures and import flag. */
export type RowDescriptor = Omit<
  LedgerRow,
  | 'clusterId'
  | 'windowStartMs'
  | 'windowEndMs'
  | 'cost'
  | 'gpuHours'
  | 'idleGpuHours'
  | 'idleGpuCost'
  | 'spotSavings'
  | 'onDemandEquivalent'
  | 'utilization'
  | 'imported'
  | 'promptTokens'
  | 'generatedTokens'
  | 'requests'
  | 'storageCost'
>;

/** A target as one cycle saw it: its id ("Job/ns/name", "Pod/<uid>", "Node/<name>"), cumulative and row fields. */
export interface Observation {
  readonly id: string;
  readonly cumulative: Cumulative;
  readonly describe: RowDescriptor;
  /**
   * For a target the ledger does not hold yet: what of `cumulative` it already accrued under another target,
   * so not its own (a pod billed to its workload until now). Undefined: nothing, it starts from zero.
   */
  readonly billedElsewhere?: Cumulative | undefined;
}

/** A target's two cumulatives in one window, kept in the window's file so that a restart can resume. */
export interface StoredTarget {
  readonly id: string;
  readonly opening: Cumulative;
  readonly closing: Cumulative;
  readonly imported: boolean;
}

export interface WindowOutput {
  readonly windowStartMs: number;
  readonly rows: LedgerRow[];
  readonly targets: StoredTarget[];
}

/** Every target's cumulative at the end of a window (the state snapshot). */
export interface Snapshot {
  readonly throughMs: number;
  readonly targets: ReadonlyMap<string, Cumulative>;
}

export interface AccrualOutput {
  /** Windows that ended, oldest first, each with the snapshot to write after it. */
  readonly finished: readonly { readonly window: WindowOutput; readonly snapshot: Snapshot }[];
  /** The open window so far; undefined when the caller did not ask for it (no piece due this cycle). */
  readonly current: WindowOutput | undefined;
}

/** What a restart resumes from (durable.ts reads it). */
export interface SeedTarget {
  readonly opening: Cumulative;
  readonly closing: Cumulative;
  /** The open window's row, when it has one. */
  readonly row?: LedgerRow | undefined;
}

interface TargetState {
  describe: RowDescriptor | undefined;
  opening: Cumulative;
  closing: Cumulative;
  /** Has a row in the open window. */
  seen: boolean;
  imported: boolean;
}

interface Span {
  readonly from: Cumulative;
  readonly obs: Observation;
}

/** Bare pods and nodes not seen for this long leave the state (a pod's uid never comes back). */
const FORGET_AFTER_SECONDS = 86_400;

/** The windows accrued in memory (see LedgerAccrual.recent). */
export interface RecentWindows {
  /** Oldest first: the window that ended last, if one did since the start, and the open window so far. */
  readonly windows: readonly WindowOutput[];
  /** The open window's rows are accrued up to here (the last cycle's end). */
  readonly throughMs: number;
}

export class LedgerAccrual {
  private openStart: number | undefined;
  /** The last window that ended, whose file may still be queued for writing, and the last cycle's end. */
  private lastFinished: WindowOutput | undefined;
  private throughMs: number | undefined;
  private readonly targets = new Map<string, TargetState>();
  private readonly clusterId: string;
  private readonly windowSeconds: number;

  constructor(clusterId: string, windowSeconds: number) {
    this.clusterId = clusterId;
    this.windowSeconds = windowSeconds;
  }

  /** Resumes from the durable ledger: the open window's start and each target's cumulatives. */
  seed(openWindowStartSeconds: number | undefined, targets: ReadonlyMap<string, SeedTarget>): void {
    this.openStart =
      openWindowStartSeconds === undefined ? undefined : windowStartOf(openWindowStartSeconds, this.windowSeconds);
    this.targets.clear();
    this.lastFinished = undefined;
    this.throughMs = undefined;
    for (const [id, t] of targets) {
      const { row } = t;
      this.targets.set(id, {
        describe: row,
        opening: t.opening,
        closing: t.closing,
        seen: row !== undefined,
        imported: row?.imported ?? false,
      });
    }
  }

  closing(id: string): Cumulative | undefined {
    return this.targets.get(id)?.closing;
  }

  /** How many targets are kept (a gauge for tests and aicost_tracked_objects). */
  get size(): number {
    return this.targets.size;
  }

  /** Every target's id. */
  ids(): IterableIterator<string> {
    return this.targets.keys();
  }

  /**
   * Whether everything the target accrued is in windows written through `writtenThroughSeconds` (the end of the
   * last window whose file the sink confirmed): no row in the open window, and nothing accrued after that end.
   * Only then may a target whose object is gone be forgotten (forget): its rows are durable, and a restart
   * would have nothing of it to resume.
   */
  settled(id: string, writtenThroughSeconds: number | undefined): boolean {
    const state = this.targets.get(id);
    if (!state) return true;
    if (state.seen || writtenThroughSeconds === undefined) return false;
    return state.closing.accountedUntil <= writtenThroughSeconds;
  }

  /** Drops a target's state: the next snapshot leaves it out (see settled). */
  forget(id: string): void {
    this.targets.delete(id);
  }

  /** The target's last row fields (for a workload gone from the cache). */
  described(id: string): RowDescriptor | undefined {
    return this.targets.get(id)?.describe;
  }

  /**
   * Keeps a target's state under another id (`${id}#${suffix}`): the name now belongs to another object (a Job
   * deleted and created again), whose cumulative starts afresh under `id` while the old one's row for the open
   * window stays. False when there is nothing under `id`.
   */
  retire(id: string, suffix: string): boolean {
    const state = this.targets.get(id);
    if (!state) return false;
    this.targets.delete(id);
    this.targets.set(`${id}#${suffix}`, state);
    return true;
  }

  /** An opening balance imported from annotations: its window's row holds all of it, flagged imported. */
  importOpening(id: string, balance: Cumulative): void {
    this.targets.set(id, { describe: undefined, opening: ZERO, closing: balance, seen: false, imported: true });
  }

  /** One cycle [cycleStart, now): every observed target's new cumulative. */
  observe(
    cycleStartSeconds: number,
    nowSeconds: number,
    observations: readonly Observation[],
    withCurrent = true,
  ): AccrualOutput {
    const openStart = this.openStart ?? windowStartOf(Math.min(cycleStartSeconds, nowSeconds), this.windowSeconds);
    this.openStart = openStart;
    const spans = new Map<string, Span>();
    for (const obs of observations) {
      let state = this.targets.get(obs.id);
      if (!state) {
        const startedAt = Math.max(openStart, Math.min(cycleStartSeconds, obs.cumulative.accountedUntil));
        const before = obs.billedElsewhere;
        state = {
          describe: undefined,
          opening: before ?? ZERO,
          closing: before ?? { ...ZERO, accountedUntil: startedAt },
          seen: false,
          imported: false,
        };
        this.targets.set(obs.id, state);
      }
      // Clamped into the open window: the windows before it are written and closed.
      const t0 = Math.min(Math.max(state.closing.accountedUntil, openStart), obs.cumulative.accountedUntil);
      spans.set(obs.id, { from: { ...state.closing, accountedUntil: t0 }, obs });
    }
    const finished: { window: WindowOutput; snapshot: Snapshot }[] = [];
    while (this.openStart + this.windowSeconds <= nowSeconds) finished.push(this.finishWindow(spans));
    for (const [id, { obs }] of spans) {
      const state = this.targets.get(id);
      if (!state) continue;
      state.describe = merged(state, obs.describe);
      state.closing = obs.cumulative;
      if (obs.cumulative.accountedUntil > this.openStart) state.seen = true;
    }
    this.lastFinished = finished.at(-1)?.window ?? this.lastFinished;
    this.throughMs = nowSeconds * 1000;
    return { finished, current: withCurrent ? this.output(this.openStart, (s) => s.closing) : undefined };
  }

  /**
   * The rows of the last window that ended (exact, even before its file is written) and of the open window up
   * to the last cycle: what a reader of the spend up to now adds to the ledger's older windows (budgets).
   * Undefined before the first cycle since the start or the seed.
   */
  recent(): RecentWindows | undefined {
    if (this.openStart === undefined || this.throughMs === undefined) return undefined;
    const open = this.output(this.openStart, (s) => s.closing);
    return { windows: this.lastFinished ? [this.lastFinished, open] : [open], throughMs: this.throughMs };
  }

  /**
   * Lets go of the last window that ended once the sink confirmed its file (`writtenThroughSeconds`, the end of
   * the last window written whole): a reader of the spend up to now finds it in the ledger from then on
   * (budget-spend.ts lists the windows before the first one held here), and holding a whole window's rows (one
   * per workload and node: 11,000 on a 1,000-node fleet) for the rest of the hour is memory for nothing.
   */
  release(writtenThroughSeconds: number | undefined): void {
    const last = this.lastFinished;
    if (!last || writtenThroughSeconds === undefined) return;
    if (last.windowStartMs / 1000 + this.windowSeconds <= writtenThroughSeconds) this.lastFinished = undefined;
  }

  /** Ends the open window: every target's cumulative at its end is its final row and the next window's opening. */
  private finishWindow(spans: ReadonlyMap<string, Span>): { window: WindowOutput; snapshot: Snapshot } {
    const start = this.openStart ?? 0;
    const end = start + this.windowSeconds;
    const atEnd = new Map<string, Cumulative>();
    for (const [id, state] of this.targets) {
      const span = spans.get(id);
      atEnd.set(id, span ? cumulativeAt(span.from, span.obs.cumulative, end) : state.closing);
      if (span && span.from.accountedUntil < end) {
        state.describe = merged(state, span.obs.describe);
        state.seen = true;
      }
    }
    const window = this.output(start, (_s, id) => atEnd.get(id) ?? ZERO);
    for (const [id, state] of this.targets) {
      const value = atEnd.get(id) ?? state.closing;
      state.opening = value;
      if (!spans.has(id)) state.closing = value;
      state.seen = false;
      state.imported = false;
      const forgettable = id.startsWith('Pod/') || id.startsWith('Node/');
      if (forgettable && !spans.has(id) && value.accountedUntil < end - FORGET_AFTER_SECONDS) this.targets.delete(id);
    }
    this.openStart = end;
    const snapshot = new Map<string, Cumulative>();
    for (const [id, state] of this.targets) snapshot.set(id, state.opening);
    return { window, snapshot: { throughMs: end * 1000, targets: snapshot } };
  }

  /** The rows and stored cumulatives of a window, closing each seen target at `closingOf`. */
  private output(startSeconds: number, closingOf: (s: TargetState, id: string) => Cumulative): WindowOutput {
    const rows: LedgerRow[] = [];
    const targets: StoredTarget[] = [];
    const windowStartMs = startSeconds * 1000;
    for (const [id, state] of this.targets) {
      if (!state.seen || !state.describe) continue;
      const closing = closingOf(state, id);
      const figures = windowFigures(state.opening, closing);
      rows.push({
        ...state.describe,
        ...figures,
        compute: computeOf(state.describe.workloadKind, figures.gpuHours, state.describe.compute),
        clusterId: this.clusterId,
        windowStartMs,
        windowEndMs: windowStartMs + this.windowSeconds * 1000,
        imported: state.imported,
      });
      targets.push({ id, opening: state.opening, closing, imported: state.imported });
    }
    return { windowStartMs, rows, targets };
  }
}

/**
 * The latest row fields, with the most pods the target had at once in the window, and the models it served in
 * the window when the latest cycle heard of none (its servers' series missed a scrape, say).
 */
function merged(state: TargetState, latest: RowDescriptor): RowDescriptor {
  const before = state.seen ? (state.describe?.podCount ?? 0) : 0;
  const models = state.seen ? state.describe?.servedModels : undefined;
  const withCount = before > latest.podCount ? { ...latest, podCount: before } : latest;
  return latest.servedModels === undefined && models !== undefined ? { ...withCount, servedModels: models } : withCount;
}
