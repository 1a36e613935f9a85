/**
 * Who owns a node's idle capacity (issue #18; docs/cost-model.md#idle-owned-by-a-team): with
 * --idle-owner-label KEY, a node labelled KEY=value has its idle row owned by that value, so an idle reserved
 * pool is its team's cost rather than the cluster's. The owner goes into the Node row's roll-up column when
 * KEY is one of them (team, project, experiment, model), into its labels as KEY=value (what `aicost report
 * --by KEY` and a budget's selectors read), and into its idle_owner column, which tells owned idle from
 * unowned so that reports can show both views.
 *
 * Node labels are written by whoever may write nodes (the platform, its node pools), not by tenants, yet the
 * value is checked as the API server checks a label value: anything else leaves the idle unowned. Unowned
 * idle is still a row, so nothing is dropped and allocated + idle = node cost either way.
 */
import type { RowDescriptor } from '../ledger/accrual.ts';
import { ROLLUP_COLUMNS, type RollupColumn } from '../ledger/row.ts';

/** A label value as the API server accepts it: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

export type IdleOwnerColumns = Pick<RowDescriptor, RollupColumn | 'labels' | 'idleOwner'>;

const UNOWNED: IdleOwnerColumns = {
  team: '',
  project: '',
  experiment: '',
  model: '',
  labels: {},
  idleOwner: '',
};

/** The owner columns of a node's idle row: its KEY label's value when valid, else unowned (''). */
export function idleOwnerColumns(
  key: string | undefined,
  nodeLabels: Readonly<Record<string, string>>,
): IdleOwnerColumns {
  const owner = key === undefined ? undefined : nodeLabels[key];
  if (key === undefined || owner === undefined || owner === '' || !isLabelValue(owner)) return UNOWNED;
  const column = (ROLLUP_COLUMNS as readonly string[]).includes(key) ? { [key]: owner } : {};
  return { ...UNOWNED, ...column, labels: { [key]: owner }, idleOwner: owner };
}
