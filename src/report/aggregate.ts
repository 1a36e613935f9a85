/**
 * `aicost report`'s arithmetic, on plain data: ledger rows are summed into groups (one per cluster, currency,
 * idle or not, and value of each --by key), and the groups become report rows, with idle cost either a row of
 * its own or shared out. Both engines (engine-js.ts, engine-duckdb.ts) produce the same groups, so everything
 * after the sums is this one tested code.
 *
 * Money stays bigint nano-units throughout; a report row's cost is exact, and the rows add up to the ledger's
 * total to the nano-unit (idle included, whichever --idle).
 */
import type { LedgerRow } from '../ledger/row.ts';
import type { IdleMode } from './options.ts';
import { addEfficiency, efficiencyOf, type Efficiency } from './efficiency.ts';
import { addServed, servedOf, withServed, type Served } from './served.ts';

/** The key value of idle rows: the name OpenCost uses, so dashboards that know one know the other. */
export const IDLE = '__idle__';

/** The sum of one group of rows. */
export interface Group {
  readonly clusterId: string;
  readonly currency: string;
  /** True for the Node rows: capacity that no workload requested. */
  readonly idle: boolean;
  /** One value per --by key, in order; '' where a workload has no such label. */
  readonly keys: readonly string[];
  readonly cost: bigint;
  /** What the rows served, when the report is by model (served.ts); undefined otherwise. */
  readonly served?: Served | undefined;
  /** The efficiency figures, with --efficiency (efficiency.ts); undefined otherwise. */
  readonly efficiency?: Efficiency | undefined;
}

export interface ReportRow {
  readonly keys: readonly string[];
  /** All of the row's cost: its workloads', and its owned idle (`ownedIdle`) when it has some. */
  readonly cost: bigint;
  readonly currency: string;
  /** True for an `__idle__` row: idle capacity that is no one's (or every one's, with --idle pooled). */
  readonly idle: boolean;
  /**
   * The idle capacity the row's keys own (--idle-owner-label): part of `cost`. Undefined on rows that own
   * none, and in every row with --idle pooled.
   */
  readonly ownedIdle?: bigint | undefined;
  readonly served?: Served | undefined;
  readonly efficiency?: Efficiency | undefined;
}

/** A workload's name in reports: unique in a cluster at any moment, readable, and stable across windows. */
export function workloadName(row: Pick<LedgerRow, 'namespace' | 'workloadKind' | 'workloadName'>): string {
  return `${row.namespace}/${row.workloadKind}/${row.workloadName}`;
}

/** The value of one --by key for a workload row. */
export function keyValue(row: LedgerRow, key: string): string {
  switch (key) {
    case 'team':
      return row.team;
    case 'project':
      return row.project;
    case 'experiment':
      return row.experiment;
    case 'model':
      // The model its inference series name (issue #17), else its `model` label; '' when neither says.
      return row.servedModels || row.model;
    case 'namespace':
      return row.namespace;
    case 'workload':
      return workloadName(row);
    case 'cluster':
      return row.clusterId;
    case 'compute':
      return row.compute;
    default:
      return row.labels[key] ?? '';
  }
}

/**
 * The key values of a row. A Node row (idle capacity) belongs to no namespace or workload: those keys are
 * `__idle__`; the cluster and the compute are the node's (so idle GPU and idle CPU capacity show apart). Its
 * other keys are `__idle__` too unless its idle has an owner (--idle-owner-label, issue #18): then a key that
 * the owner's label gives a value (the owner's column, or the label itself) is the owner, so `--by team` puts
 * a team's idle pool in the team's row. reportRows pools it back into `__idle__` for `--idle pooled`.
 */
export function rowKeys(row: LedgerRow, by: readonly string[]): string[] {
  if (row.workloadKind !== 'Node') return by.map((key) => keyValue(row, key));
  const owned = (row.idleOwner ?? '') !== '';
  return by.map((key) => {
    if (NODE_KEYS.has(key)) return keyValue(row, key);
    if (!owned || key === 'namespace' || key === 'workload') return IDLE;
    return keyValue(row, key) || IDLE;
  });
}

/** The keys a Node row has a value of: its cluster, and its compute (`gpu` or `cpu`). */
const NODE_KEYS: ReadonlySet<string> = new Set(['cluster', 'compute']);

/** Sums rows into groups; add rows one window at a time, read the groups at the end. */
export class GroupSums {
  private readonly by: readonly string[];
  private readonly namespace: string | undefined;
  private readonly served: boolean;
  private readonly efficiency: boolean;
  private readonly sums = new Map<
    string,
    { group: Omit<Group, 'cost' | keyof Extras>; cost: bigint; extras: Extras }
  >();

  /**
   * With a namespace, only that namespace's workloads count (idle capacity belongs to no namespace). `served`:
   * whether to sum what the rows served too (by default for a report by model, which shows it); `efficiency`:
   * the efficiency figures (efficiency.ts).
   */
  constructor(by: readonly string[], namespace?: string, served = withServed(by), efficiency = false) {
    this.by = by;
    this.namespace = namespace;
    this.served = served;
    this.efficiency = efficiency;
  }

  add(rows: Iterable<LedgerRow>): void {
    for (const row of rows) {
      if (this.namespace !== undefined && row.namespace !== this.namespace) continue;
      const idle = row.workloadKind === 'Node';
      const keys = rowKeys(row, this.by);
      const id = JSON.stringify([row.clusterId, row.currency, idle, keys]);
      const extras: Extras = {
        ...(this.served ? { served: servedOf(row) } : {}),
        ...(this.efficiency ? { efficiency: efficiencyOf(row) } : {}),
      };
      const sum = this.sums.get(id);
      if (sum) {
        sum.cost += row.cost;
        sum.extras = addExtras(sum.extras, extras);
      } else {
        const group = { clusterId: row.clusterId, currency: row.currency, idle, keys };
        this.sums.set(id, { group, cost: row.cost, extras });
      }
    }
  }

  groups(): Group[] {
    return [...this.sums.values()].map(({ group, cost, extras }) => ({ ...group, cost, ...extras }));
  }
}

/** The sums a report carries beside the cost when asked (served.ts, efficiency.ts). */
type Extras = Pick<Group, 'served' | 'efficiency'>;

function addExtras(a: Extras, b: Extras): Extras {
  return {
    ...(a.served && b.served ? { served: addServed(a.served, b.served) } : {}),
    ...(a.efficiency && b.efficiency ? { efficiency: addEfficiency(a.efficiency, b.efficiency) } : {}),
  };
}

const extrasOf = ({ served, efficiency }: Extras): Extras => ({
  ...(served ? { served } : {}),
  ...(efficiency ? { efficiency } : {}),
});

/**
 * Report rows from groups. Idle that lands on an owner (rowKeys: a Node row whose keys name its owner) is in
 * the owner's row, in `cost` and shown apart as `ownedIdle`, with every mode but `pooled`; the rest of the
 * idle is no one's. `separate`: no one's idle forms `__idle__` rows. `share`: each cluster's idle cost of no
 * one is spread over that cluster's keys in proportion to their allocated cost in the range, by largest
 * remainder (shareIdle), so the parts add up to the idle cost exactly; a cluster with idle cost but no
 * allocated cost keeps its `__idle__` row. `pooled`: all idle is in `__idle__` rows, owned or not, as before
 * idle had owners. Rows are merged across clusters unless `cluster` is a key. Currencies never mix. Every
 * mode adds up to the same total. Order: by cost, highest first, then by keys; idle rows last.
 */
export function reportRows(groups: readonly Group[], mode: IdleMode, by: readonly string[]): ReportRow[] {
  const owned = mode === 'pooled' ? groups.map((g) => pooled(g, by)) : groups;
  const shared = mode === 'share' ? shareIdle(owned, by) : owned;
  const merged = new Map<
    string,
    { row: Omit<ReportRow, 'cost' | 'ownedIdle' | keyof Extras>; cost: bigint; ownedIdle?: bigint; extras: Extras }
  >();
  for (const g of shared) {
    const ownedIdle = landsOnOwner(g, by);
    const idle = g.idle && !ownedIdle;
    const id = JSON.stringify([g.currency, idle, g.keys]);
    let sum = merged.get(id);
    if (sum) {
      sum.cost += g.cost;
      sum.extras = addExtras(sum.extras, g);
    } else {
      sum = { row: { keys: g.keys, currency: g.currency, idle }, cost: g.cost, extras: extrasOf(g) };
      merged.set(id, sum);
    }
    if (ownedIdle) sum.ownedIdle = (sum.ownedIdle ?? 0n) + g.cost;
  }
  return [...merged.values()]
    .map(({ row, cost, ownedIdle, extras }) => ({
      ...row,
      cost,
      ...(ownedIdle === undefined ? {} : { ownedIdle }),
      ...extras,
    }))
    .sort(
      (a, b) =>
        Number(a.idle) - Number(b.idle) ||
        (a.cost > b.cost ? -1 : a.cost < b.cost ? 1 : 0) ||
        compareKeys(a.keys, b.keys) ||
        compare(a.currency, b.currency),
    );
}

/**
 * Whether a group is idle that an owner's row holds: a Node group with a key not `__idle__` other than the
 * ones every node has (its cluster and compute).
 */
function landsOnOwner(g: Group, by: readonly string[]): boolean {
  return g.idle && g.keys.some((key, i) => !NODE_KEYS.has(by[i] ?? '') && key !== IDLE);
}

/** An idle group in the cluster-wide bucket whoever owns it: every key `__idle__` but the cluster and compute. */
function pooled(g: Group, by: readonly string[]): Group {
  return g.idle ? { ...g, keys: g.keys.map((key, i) => (NODE_KEYS.has(by[i] ?? '') ? key : IDLE)) } : g;
}

/**
 * The groups with each cluster's idle cost of no one (per currency) shared out to its allocated groups; idle
 * an owner holds (landsOnOwner) stays the owner's, and is not a weight.
 */
export function shareIdle(groups: readonly Group[], by: readonly string[]): Group[] {
  const byCluster = new Map<string, Group[]>();
  for (const g of groups) {
    const id = JSON.stringify([g.clusterId, g.currency]);
    const list = byCluster.get(id);
    if (list) list.push(g);
    else byCluster.set(id, [g]);
  }
  const out: Group[] = [];
  for (const list of byCluster.values()) {
    out.push(...list.filter((g) => landsOnOwner(g, by)));
    const idle = list.filter((g) => g.idle && !landsOnOwner(g, by));
    // Sorted, so the remainders' ties go the same way whatever order the engine returned the groups in.
    const allocated = list.filter((g) => !g.idle).sort((a, b) => compareKeys(a.keys, b.keys));
    const idleCost = idle.reduce((sum, g) => sum + g.cost, 0n);
    const weights = allocated.map((g) => g.cost);
    if (idleCost === 0n || weights.every((w) => w === 0n)) {
      out.push(...allocated, ...idle);
      continue;
    }
    const parts = apportionBig(idleCost, weights);
    allocated.forEach((g, i) => out.push({ ...g, cost: g.cost + (parts[i] ?? 0n) }));
  }
  return out;
}

/**
 * `total` split in proportion to non-negative weights (at least one positive), exactly: each part is
 * floor(total × weight / sum), and the units left over go one each to the largest remainders, the earlier
 * party first on ties. bigint throughout: a month of a cluster's cost in nano-units passes 2^53.
 */
export function apportionBig(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((s, w) => s + w, 0n);
  if (total < 0n || sum <= 0n || weights.some((w) => w < 0n))
    throw new RangeError('apportionBig needs a non-negative total and non-negative weights with a positive sum');
  const parts = weights.map((w) => (total * w) / sum);
  let left = total - parts.reduce((s, p) => s + p, 0n);
  const order = weights
    .map((w, i) => ({ i, remainder: (total * w) % sum }))
    .sort((a, b) => (a.remainder > b.remainder ? -1 : a.remainder < b.remainder ? 1 : a.i - b.i));
  for (const { i } of order) {
    if (left === 0n) break;
    parts[i] = (parts[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return parts;
}

/** Totals per currency, for the table's last lines and for checks. */
export function totals(rows: readonly { readonly cost: bigint; readonly currency: string }[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const row of rows) sums.set(row.currency, (sums.get(row.currency) ?? 0n) + row.cost);
  return sums;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compare(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}
