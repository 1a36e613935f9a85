/**
 * Empty GPU nodes (issue #17: the autoscaling group left up over the weekend): a GPU node none of whose GPUs
 * any pod requested, in every ledger window for longer than a threshold up to the last window, with what those
 * windows cost. Pure: it reads the ledger's Node rows (a node's unrequested capacity, src/ledger/row.ts).
 */
import { divRoundHalfUp, formatMoney, type Nanos } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';
import { HOUR_MS, perMonth, type Recommendation } from './types.ts';

export interface EmptyNodeSettings {
  /** How long a node must have been empty, up to the last window, before it is flagged. */
  readonly minEmptyMs: number;
}

/** Two hours: two default (hourly) ledger windows, so one quiet hour between jobs is not flagged. */
export const DEFAULT_EMPTY_NODE: EmptyNodeSettings = Object.freeze({ minEmptyMs: 2 * HOUR_MS });

/**
 * The writer rounds each row's GPU-hours once, to under a nano-hour; a thousand nano-hours (3.6 ms) of slack
 * keeps that rounding from making an empty node look used.
 */
const ROUNDING_NANO_HOURS = 1000n;

/** True when the Node row covers all of the node's GPUs for all of its window: no pod requested any. */
function emptyWindow(row: LedgerRow, gpuCount: number): boolean {
  const full = (BigInt(gpuCount) * BigInt(row.windowEndMs - row.windowStartMs) * 1_000_000_000n) / BigInt(HOUR_MS);
  return gpuCount > 0 && row.gpuHours + ROUNDING_NANO_HOURS >= full;
}

/**
 * `nodeRows`: the Node rows of finished windows; `lastWindowStartMs`: per cluster, the start of its last finished
 * window (a node without a row in it is gone, and costs nothing any more); `gpuCountOf`: the GPUs of an instance
 * type (the catalog's), undefined when unknown, which makes no recommendation.
 */
export function emptyNodes(
  nodeRows: readonly LedgerRow[],
  lastWindowStartMs: ReadonlyMap<string, number>,
  gpuCountOf: (instanceType: string) => number | undefined,
  s: EmptyNodeSettings = DEFAULT_EMPTY_NODE,
): Recommendation[] {
  const byNode = new Map<string, LedgerRow[]>();
  for (const row of nodeRows) {
    // A CPU-only node's row is never an empty GPU node's, whatever its instance type is taken for.
    if (row.workloadKind !== 'Node' || row.compute !== 'gpu') continue;
    const key = `${row.clusterId}\u0000${row.workloadName}`;
    byNode.set(key, [...(byNode.get(key) ?? []), row]);
  }
  const found: Recommendation[] = [];
  for (const rows of byNode.values()) {
    rows.sort((a, b) => b.windowStartMs - a.windowStartMs); // the latest first
    const last = rows[0];
    const gpuCount = last === undefined ? undefined : gpuCountOf(last.instanceType);
    if (last === undefined || gpuCount === undefined) continue;
    if (last.windowStartMs !== lastWindowStartMs.get(last.clusterId)) continue;
    // The empty stretch: the latest windows, back to the first gap or the first window with a GPU requested.
    let emptySinceMs = last.windowEndMs;
    let costSoFar: Nanos = 0n;
    for (const row of rows) {
      if (row.windowEndMs !== emptySinceMs || !emptyWindow(row, gpuCount)) break;
      emptySinceMs = row.windowStartMs;
      costSoFar += row.cost;
    }
    const emptyMs = last.windowEndMs - emptySinceMs;
    if (emptyMs < s.minEmptyMs || emptyMs === 0) continue;
    const windowMs = last.windowEndMs - last.windowStartMs;
    const costPerHour = divRoundHalfUp(last.cost * BigInt(HOUR_MS), BigInt(windowMs));
    found.push({
      type: 'empty-node',
      target: `Node/${last.workloadName}`,
      clusterId: last.clusterId,
      monthlySaving: perMonth(costPerHour),
      currency: last.currency,
      // The ledger's record of requests is exact: no sampling stands between it and the advice.
      confidence: 'high',
      reason: `no pod requested any of its ${gpuCount} GPUs for ${formatHours(emptyMs)} h, costing ${formatMoney(costSoFar, 2)} ${last.currency}: scale it down`,
      details: {
        instanceType: last.instanceType,
        gpus: gpuCount,
        emptySince: new Date(emptySinceMs).toISOString(),
        emptyHours: formatHours(emptyMs),
        costSoFar: formatMoney(costSoFar, 9),
        costPerHour: formatMoney(costPerHour, 9),
      },
    });
  }
  return found;
}

/** Milliseconds as hours with up to two decimals, for reading. */
function formatHours(ms: number): string {
  return String(Math.round((ms / HOUR_MS) * 100) / 100);
}
