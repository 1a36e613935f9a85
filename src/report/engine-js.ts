/**
 * The engine without dependencies: the ledger streamed through LedgerStore.readRange, one window at a time,
 * into the sums of aggregate.ts and runs.ts. Memory stays one window plus the sums; time is the decoder's,
 * about half a second per 20,000-row window (docs/benchmarks.md). Used for object stores (DuckDB reads only
 * local files here), when DuckDB is not installed, and as the reference the DuckDB engine is tested against.
 */
import type { LedgerStore } from '../ledger/store.ts';
import { GroupSums, type Group } from './aggregate.ts';
import type { TimeRange } from './options.ts';
import { RunSums, type RunSum } from './runs.ts';
import { withServed } from './served.ts';
import { BucketSums, WORKLOAD_KEYS, type Bucketing, type TimelineSums } from './timeline.ts';

export interface Scope extends TimeRange {
  readonly clusterId?: string | undefined;
  readonly namespace?: string | undefined;
}

export async function groupsJs(
  store: LedgerStore,
  scope: Scope,
  by: readonly string[],
  efficiency = false,
): Promise<Group[]> {
  const sums = new GroupSums(by, scope.namespace, withServed(by), efficiency);
  for await (const window of store.readRange(scope)) sums.add(window.rows);
  return sums.groups();
}

export async function runsJs(store: LedgerStore, scope: Scope): Promise<RunSum[]> {
  const sums = new RunSums(scope.namespace);
  for await (const window of store.readRange(scope)) sums.add(window.rows);
  return sums.sums();
}

/** The HTML report's sums in one pass over the range: the decoding is the cost, not the sums. */
export async function timelineJs(
  store: LedgerStore,
  scope: Scope,
  by: readonly string[],
  bucketing: Bucketing,
): Promise<TimelineSums> {
  const buckets = new BucketSums(by, bucketing, scope.namespace);
  const workloads = new GroupSums(WORKLOAD_KEYS, scope.namespace);
  for await (const window of store.readRange(scope)) {
    buckets.add(window.windowStartMs, window.rows);
    workloads.add(window.rows);
  }
  return { buckets: buckets.groups(), workloads: workloads.groups() };
}
