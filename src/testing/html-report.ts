/** The HTML report's input over ledger rows, summed as the JavaScript engine sums them (engine-js.ts). */
import type { LedgerRow } from '../ledger/row.ts';
import { GroupSums } from '../report/aggregate.ts';
import type { HtmlReportInput } from '../report/html-model.ts';
import { BucketSums, WORKLOAD_KEYS, type Bucketing } from '../report/timeline.ts';
import { HOUR_MS } from './ledger-rows.ts';
import { prod1Rows, prod2Rows, T0 } from './report-ledger.ts';

/** The windows of src/testing/report-ledger.ts, each as its rows. */
export function reportWindows(): LedgerRow[][] {
  return [prod1Rows(T0), prod1Rows(T0 + HOUR_MS), prod1Rows(T0 + 2 * HOUR_MS), prod2Rows(T0)];
}

export function htmlInput(
  windows: readonly (readonly LedgerRow[])[],
  options: Partial<Omit<HtmlReportInput, 'sums'>> & { bucketing?: Bucketing } = {},
): HtmlReportInput {
  const by = options.by ?? ['team'];
  const bucketing = options.bucketing ?? 'window';
  const buckets = new BucketSums(by, bucketing, options.namespace);
  const workloads = new GroupSums(WORKLOAD_KEYS, options.namespace);
  for (const rows of windows) {
    buckets.add(rows[0]?.windowStartMs ?? 0, rows);
    workloads.add(rows);
  }
  return {
    by,
    idle: 'separate',
    fromMs: T0,
    toMs: T0 + 24 * HOUR_MS,
    cluster: undefined,
    namespace: undefined,
    nowMs: T0 + 25 * HOUR_MS,
    ...options,
    bucketing,
    sums: { buckets: buckets.groups(), workloads: workloads.groups() },
  };
}
