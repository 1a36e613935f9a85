/**
 * Spend over time for the HTML report: the groups of aggregate.ts, one set per time bucket (a UTC day, or a
 * ledger window when the range is too short for days to say anything). Merging the buckets back gives the
 * very groups the other formats sum, so the page's rows are the rows of `--format json` to the nano-unit.
 */
import type { LedgerRow } from '../ledger/row.ts';
import { GroupSums, type Group } from './aggregate.ts';
import type { TimeRange } from './options.ts';

export const DAY_MS = 86_400_000;

/** `day`: one bar per UTC day; `window`: one bar per ledger window (ranges under two days). */
export type Bucketing = 'day' | 'window';

export function bucketingFor(range: TimeRange): Bucketing {
  return range.toMs - range.fromMs < 2 * DAY_MS ? 'window' : 'day';
}

/** The start of the bucket a window starting at `windowStartMs` falls in. */
export function bucketOf(bucketing: Bucketing, windowStartMs: number): number {
  return bucketing === 'day' ? Math.floor(windowStartMs / DAY_MS) * DAY_MS : windowStartMs;
}

export interface BucketGroup extends Group {
  readonly bucketMs: number;
}

/** GroupSums per bucket; add rows in any order, read the groups at the end. */
export class BucketSums {
  private readonly by: readonly string[];
  private readonly bucketing: Bucketing;
  private readonly namespace: string | undefined;
  private readonly buckets = new Map<number, GroupSums>();

  constructor(by: readonly string[], bucketing: Bucketing, namespace?: string) {
    this.by = by;
    this.bucketing = bucketing;
    this.namespace = namespace;
  }

  /** The rows of one window (LedgerStore.readRange gives them so). */
  add(windowStartMs: number, rows: Iterable<LedgerRow>): void {
    const bucketMs = bucketOf(this.bucketing, windowStartMs);
    let sums = this.buckets.get(bucketMs);
    if (!sums) {
      // The HTML page shows cost only: no served sums, as the DuckDB engine's timeline has none.
      sums = new GroupSums(this.by, this.namespace, false);
      this.buckets.set(bucketMs, sums);
    }
    sums.add(rows);
  }

  groups(): BucketGroup[] {
    return [...this.buckets].flatMap(([bucketMs, sums]) => sums.groups().map((g) => ({ ...g, bucketMs })));
  }
}

/** The buckets summed away: the groups of the whole range, as GroupSums would give them. */
export function mergeBuckets(groups: readonly BucketGroup[]): Group[] {
  const merged = new Map<string, Group & { cost: bigint }>();
  for (const { bucketMs: _bucket, ...group } of groups) {
    const id = JSON.stringify([group.clusterId, group.currency, group.idle, group.keys]);
    const sum = merged.get(id);
    if (sum) sum.cost += group.cost;
    else merged.set(id, { ...group });
  }
  return [...merged.values()];
}

/** The keys of the top-workloads table: a workload is named within its cluster. */
export const WORKLOAD_KEYS = ['cluster', 'workload'] as const;

/** What the HTML report reads from an engine: the --by groups per bucket, and the groups per workload. */
export interface TimelineSums {
  readonly buckets: BucketGroup[];
  readonly workloads: Group[];
}
