/**
 * What the operator's recommender reads, in bounded memory (1,000 nodes and 20,000 pods): the ledger's finished
 * windows of the look-back, with each workload's rows folded into one as they stream by, and the pods' GPU
 * figures over the window from Prometheus (the six instant queries of `aicost recommend`, under --dcgm-selector).
 */
import type { LedgerRow } from '../ledger/row.ts';
import { windowKey } from '../ledger/layout.ts';
import type { LedgerStore } from '../ledger/store.ts';
import type { MatrixSeries } from '../measure/gpu-utilization.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import { podObservations, podQueries, POD_SIGNALS, type PodSignal } from '../recommend/observe.ts';
import type { PodObservation } from '../recommend/workload-observation.ts';

export interface LedgerSpan {
  /** The ledger's window length. */
  readonly ledgerWindowMs: number;
  /** The right-sizing window, rounded up to whole ledger windows. */
  readonly workloadSpanMs: number;
  /**
   * How far back Node rows are kept: the empty-node threshold, or the window up to a day if longer, in whole
   * windows. Node rows are kept as they are (a node's empty stretch is read back from its latest), so a day
   * bounds them: 24 hourly rows a node, whatever the window.
   */
  readonly nodeSpanMs: number;
  /** How far back windows are read: the longer of the two. */
  readonly lookBackMs: number;
}

const DAY_MS = 86_400_000;

export function ledgerSpan(ledgerWindowMs: number, windowMs: number, emptyAfterMs: number): LedgerSpan {
  const whole = (ms: number) => Math.ceil(ms / ledgerWindowMs) * ledgerWindowMs;
  const workloadSpanMs = whole(windowMs);
  const nodeSpanMs = whole(Math.max(emptyAfterMs, Math.min(windowMs, DAY_MS)));
  return { ledgerWindowMs, workloadSpanMs, nodeSpanMs, lookBackMs: Math.max(workloadSpanMs, nodeSpanMs) };
}

export interface LedgerInputs {
  /** The end of the last compacted window: the data ends there (undefined: no compacted window yet). */
  readonly endMs: number | undefined;
  /** One row per GPU workload over the span: its latest row, with the cost and the span of all of them. */
  readonly workloadRows: LedgerRow[];
  /** The Node rows of the node span. */
  readonly nodeRows: LedgerRow[];
}

interface Folded {
  latest: LedgerRow;
  cost: bigint;
  coveredMs: number;
}

/**
 * Reads the finished, compacted windows of the look-back that ends at the last compacted window before `nowMs`
 * (a window still in pieces is the open one, or one not compacted yet: left out, as the CLI leaves it out).
 * A workload's rows are folded into one whose cost is their sum and whose span their total, which is all
 * observeWorkloads reads of them, so memory follows the workloads, not the windows.
 */
export async function readLedgerInputs(
  store: LedgerStore,
  clusterId: string,
  nowMs: number,
  span: LedgerSpan,
): Promise<LedgerInputs> {
  const lw = span.ledgerWindowMs;
  const openStartMs = Math.floor(nowMs / lw) * lw;
  const listedFromMs = openStartMs - span.lookBackMs - lw;
  const keys = new Set(await store.keysInRange({ fromMs: listedFromMs, toMs: openStartMs, clusterId }));
  let endMs: number | undefined;
  for (let start = openStartMs - lw; start >= listedFromMs && endMs === undefined; start -= lw)
    if (keys.has(windowKey(clusterId, start))) endMs = start + lw;
  if (endMs === undefined) return { endMs, workloadRows: [], nodeRows: [] };
  const folded = new Map<string, Folded>();
  const nodeRows: LedgerRow[] = [];
  const range = { fromMs: endMs - span.lookBackMs, toMs: endMs, clusterId };
  for await (const w of store.readRange(range)) {
    if (!w.compacted) continue;
    for (const row of w.rows) {
      if (row.windowEndMs > endMs) continue;
      if (row.workloadKind === 'Node') {
        if (row.windowStartMs >= endMs - span.nodeSpanMs) nodeRows.push(row);
      } else if (row.gpuHours > 0n && row.windowStartMs >= endMs - span.workloadSpanMs) fold(folded, row);
    }
  }
  const workloadRows = [...folded.values()].map(({ latest, cost, coveredMs }) => ({
    ...latest,
    cost,
    windowStartMs: latest.windowEndMs - coveredMs,
  }));
  return { endMs, workloadRows, nodeRows };
}

function fold(folded: Map<string, Folded>, row: LedgerRow): void {
  const key = `${row.namespace}/${row.workloadKind}/${row.workloadName}`;
  const f = folded.get(key);
  const spanMs = row.windowEndMs - row.windowStartMs;
  if (f === undefined) {
    folded.set(key, { latest: row, cost: row.cost, coveredMs: spanMs });
    return;
  }
  f.cost += row.cost;
  f.coveredMs += spanMs;
  if (row.windowStartMs > f.latest.windowStartMs) f.latest = row;
}

/**
 * Each pod's GPU figures over the window, or the reason there are none: a query that failed makes every pod's
 * figures partial, so none are given (the rules then recommend nothing from them).
 */
export async function readPodObservations(
  prometheus: PrometheusClient,
  o: { windowSeconds: number; idleUtilization: number; dcgmSelector: string; scrapeIntervalSeconds: number },
  nowMs: number,
): Promise<Map<string, PodObservation> | Error> {
  const queries = podQueries(o.windowSeconds, o.idleUtilization, o.dcgmSelector);
  const time = Math.floor(nowMs / 1000);
  try {
    const answers = await Promise.all(POD_SIGNALS.map((s) => prometheus.queryVector(queries[s], time)));
    const bySignal = Object.fromEntries(POD_SIGNALS.map((s, i) => [s, answers[i] ?? []])) as Record<
      PodSignal,
      MatrixSeries[]
    >;
    return podObservations(bySignal, o.windowSeconds, o.scrapeIntervalSeconds);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
