/**
 * Retention of the ledger (--ledger-retention): the leader deletes whole date partitions
 * (`cluster=<id>/date=<YYYY-MM-DD>/`) of its own cluster once every window in them is older than the
 * retention, at most once a day. Other clusters' partitions in the same bucket are theirs to keep or delete.
 *
 * The decision is pure (planRetention, retentionDue: tables in retention.test.ts); LedgerRetention only lists,
 * deletes and records when it ran.
 */
import type { Logger } from 'pino';
import { errorSummary } from '../controller/errors.ts';
import { parseSnapshot } from './durable.ts';
import { utcDate } from './layout.ts';
import type { LedgerStore } from './store.ts';

export const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RECORD_FORMAT = 1;

export interface RetentionInput {
  readonly nowMs: number;
  /** --ledger-retention in milliseconds; 0 keeps everything. */
  readonly retentionMs: number;
  /** The cluster's date partitions as listed (YYYY-MM-DD, repeats allowed). */
  readonly dates: readonly string[];
  /**
   * Where the state snapshot's cumulatives run to; undefined without a snapshot. A restart reads the windows
   * after the snapshot (durable.ts loadLedger), so a partition the snapshot does not cover yet is kept whatever
   * its age: deleting it would lose cumulatives and count their spend again.
   */
  readonly snapshotThroughMs: number | undefined;
}

/**
 * The date partitions to delete, oldest first: those whose last window started before now minus the retention
 * (the partition ends at or before that instant) and that the state snapshot covers.
 */
export function planRetention(input: RetentionInput): string[] {
  const { nowMs, retentionMs, dates, snapshotThroughMs } = input;
  if (retentionMs <= 0 || snapshotThroughMs === undefined) return [];
  const cutoffMs = Math.min(nowMs - retentionMs, snapshotThroughMs);
  return [...new Set(dates)]
    .filter((date) => {
      const endMs = dateEndMs(date);
      return endMs !== undefined && endMs <= cutoffMs;
    })
    .sort();
}

/**
 * Whether a pass is due, given when the last one ran (undefined: never): a day after it. A record more than a
 * day in the future was written by a wrong clock and would hold retention off for as long: it is ignored.
 */
export function retentionDue(lastRunMs: number | undefined, nowMs: number): boolean {
  return lastRunMs === undefined || Math.abs(nowMs - lastRunMs) >= DAY_MS;
}

/** The end of a date partition (the next UTC midnight); undefined for a string that is not a real date. */
function dateEndMs(date: string): number | undefined {
  if (!DATE.test(date)) return undefined;
  const startMs = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(startMs) && utcDate(startMs) === date ? startMs + DAY_MS : undefined;
}

export interface LedgerRetentionDeps {
  readonly store: LedgerStore;
  readonly clusterId: string;
  readonly retentionMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

export class LedgerRetention {
  private readonly deps: LedgerRetentionDeps;

  constructor(deps: LedgerRetentionDeps) {
    this.deps = deps;
  }

  /** Runs a pass when one is due; returns in how many milliseconds to ask again. Throws when the sink fails. */
  async run(): Promise<number> {
    const { store, clusterId, retentionMs, log } = this.deps;
    const nowMs = this.deps.now();
    const lastRunMs = await this.lastRun();
    if (lastRunMs !== undefined && !retentionDue(lastRunMs, nowMs)) return lastRunMs + DAY_MS - nowMs;
    const state = await store.readState(clusterId);
    const snapshotThroughMs = state === undefined ? undefined : parseSnapshot(state).throughMs;
    const dates = (await store.windows(clusterId)).map((w) => utcDate(w.windowStartMs));
    const drop = planRetention({ nowMs, retentionMs, dates, snapshotThroughMs });
    let objects = 0;
    for (const date of drop) objects += await store.deleteDate(clusterId, date);
    await store.writeRetention(clusterId, JSON.stringify({ format: RECORD_FORMAT, lastRunMs: nowMs }));
    if (drop.length > 0)
      log.info(
        { sink: store.url, clusterId, dates: drop.length, objects, oldestKept: keptFrom(dates, drop) },
        'ledger retention',
      );
    return DAY_MS;
  }

  /** When the last pass ran; undefined when none did or its record cannot be read (then a pass is due). */
  private async lastRun(): Promise<number | undefined> {
    const text = await this.deps.store.readRetention(this.deps.clusterId);
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as { format?: unknown; lastRunMs?: unknown };
      if (parsed.format === RECORD_FORMAT && Number.isSafeInteger(parsed.lastRunMs)) return parsed.lastRunMs as number;
    } catch (error) {
      this.deps.log.warn({ err: errorSummary(error) }, 'ledger retention record unreadable; running a pass');
    }
    return undefined;
  }
}

function keptFrom(dates: readonly string[], dropped: readonly string[]): string | undefined {
  const gone = new Set(dropped);
  return dates.filter((d) => !gone.has(d)).sort()[0];
}
