/**
 * What the HTML report shows, computed from the engine's sums and nothing else: the rows (those of `--format
 * json`, by the same reportRows over the same groups), the spend per bucket stacked by series, the top
 * workloads and the idle share. Pure and exact: every amount is bigint nano-units; only html-chart.ts turns
 * amounts into pixels.
 */
import { IDLE, reportRows, totals, type Group, type ReportRow } from './aggregate.ts';
import type { IdleMode } from './options.ts';
import { DAY_MS, mergeBuckets, type BucketGroup, type Bucketing, type TimelineSums } from './timeline.ts';

/** Series of their own in a chart; the keys after them are summed into one "more" series. */
export const MAX_SERIES = 8;
/** Rows of the top-workloads table. */
export const TOP_WORKLOADS = 10;

export interface HtmlReportInput {
  readonly by: readonly string[];
  readonly idle: IdleMode;
  readonly fromMs: number;
  readonly toMs: number;
  readonly cluster: string | undefined;
  readonly namespace: string | undefined;
  readonly bucketing: Bucketing;
  readonly nowMs: number;
  readonly sums: TimelineSums;
}

export interface Series {
  /** The key values joined by " / " ("(none)" for a missing label), "N more", or __idle__. */
  readonly label: string;
  readonly kind: 'key' | 'more' | 'idle';
  /** The sum of the series' segments: in the chart's own terms (see bars). */
  readonly cost: bigint;
}

export interface Bar {
  readonly startMs: number;
  readonly label: string;
  readonly total: bigint;
  /** Positive amounts only, in series order (the largest series at the bottom of the stack). */
  readonly segments: readonly { readonly series: number; readonly cost: bigint }[];
}

/** One chart per currency: currencies never add up. */
export interface Chart {
  readonly currency: string;
  readonly series: readonly Series[];
  readonly bars: readonly Bar[];
  readonly total: bigint;
}

export interface TopWorkload {
  readonly clusterId: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly cost: bigint;
  readonly currency: string;
  /** Of all the currency's cost in the report, idle included. */
  readonly share: string;
}

export interface IdleLine {
  /** '' for the line of all clusters together. */
  readonly clusterId: string;
  readonly currency: string;
  readonly idle: bigint;
  readonly total: bigint;
  readonly share: string;
}

export interface HtmlModel {
  readonly input: HtmlReportInput;
  /** Exactly the rows of `--format json` over the same options. */
  readonly rows: readonly ReportRow[];
  readonly totals: ReadonlyMap<string, bigint>;
  readonly charts: readonly Chart[];
  readonly workloads: readonly TopWorkload[];
  readonly idle: readonly IdleLine[];
}

export function buildHtmlModel(input: HtmlReportInput): HtmlModel {
  const rows = reportRows(mergeBuckets(input.sums.buckets), input.idle, input.by);
  const sums = totals(rows);
  const charts = [...sums.keys()].sort().map((currency) => chart(input, rows, currency));
  return {
    input,
    rows,
    totals: sums,
    charts,
    workloads: topWorkloads(input.sums.workloads, sums),
    idle: idleLines(input.sums.buckets),
  };
}

/** A row's label in the page: its key values, "(none)" for a missing label. */
export function keysLabel(keys: readonly string[]): string {
  return keys.map((k) => (k === '' ? '(none)' : k)).join(' / ');
}

/** part/whole as a percentage with one decimal, rounded half up, exactly; "-" when there is no whole. */
export function percent(part: bigint, whole: bigint): string {
  if (whole <= 0n) return '-';
  const abs = part < 0n ? -part : part;
  const tenths = (abs * 2000n + whole) / (2n * whole);
  return `${part < 0n ? '-' : ''}${tenths / 10n}.${tenths % 10n} %`;
}

export function bucketLabel(bucketing: Bucketing, startMs: number): string {
  const iso = new Date(startMs).toISOString();
  return bucketing === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * The currency's chart. Series: the report's first MAX_SERIES keys by cost, then "N more", then idle. Bars:
 * each bucket's own report rows (with `--idle share` each bucket's idle is shared by that bucket's costs), so
 * a bar is its bucket's total exactly and the bars add up to the report's total.
 */
function chart(input: HtmlReportInput, rows: readonly ReportRow[], currency: string): Chart {
  const keyRows = rows.filter((r) => r.currency === currency && !r.idle);
  const top = keyRows.slice(0, MAX_SERIES);
  const index = new Map(top.map((r, i) => [JSON.stringify(r.keys), i]));
  const moreIndex = top.length;
  const idleIndex = top.length + 1;
  const seriesOf = (row: ReportRow) => (row.idle ? idleIndex : (index.get(JSON.stringify(row.keys)) ?? moreIndex));
  const bars = bucketStarts(input).map((startMs): Bar => {
    const own = input.sums.buckets.filter((g) => g.bucketMs === startMs && g.currency === currency);
    const costs = new Map<number, bigint>();
    for (const row of reportRows(own, input.idle, input.by)) {
      const series = seriesOf(row);
      costs.set(series, (costs.get(series) ?? 0n) + row.cost);
    }
    const segments = [...costs]
      .filter(([, cost]) => cost > 0n)
      .sort(([a], [b]) => a - b)
      .map(([series, cost]) => ({ series, cost }));
    const total = [...costs.values()].reduce((s, c) => s + c, 0n);
    return { startMs, label: bucketLabel(input.bucketing, startMs), total, segments };
  });
  // "more" and idle are series only where some bar has them; the indexes move down to close the gaps.
  const used = [...top.keys(), moreIndex, idleIndex].filter(
    (i) => i < moreIndex || bars.some((bar) => bar.segments.some((g) => g.series === i)),
  );
  const final = new Map(used.map((old, i) => [old, i]));
  const renumbered = bars.map((bar) => ({
    ...bar,
    segments: bar.segments.map((g) => ({ series: final.get(g.series) ?? 0, cost: g.cost })),
  }));
  const label = (i: number) =>
    i === moreIndex ? `${keyRows.length - top.length} more` : i === idleIndex ? IDLE : keysLabel(top[i]?.keys ?? []);
  const kind = (i: number): Series['kind'] => (i === moreIndex ? 'more' : i === idleIndex ? 'idle' : 'key');
  const series = used.map((old, i): Series => {
    const cost = renumbered.reduce(
      (s, bar) => s + bar.segments.reduce((t, g) => (g.series === i ? t + g.cost : t), 0n),
      0n,
    );
    return { label: label(old), kind: kind(old), cost };
  });
  return { currency, series, bars: renumbered, total: bars.reduce((s, bar) => s + bar.total, 0n) };
}

/** The buckets with rows, and for days every day between the first and the last, so gaps show. */
function bucketStarts(input: HtmlReportInput): number[] {
  const present = [...new Set(input.sums.buckets.map((g) => g.bucketMs))].sort((a, b) => a - b);
  const first = present[0];
  const last = present.at(-1);
  if (input.bucketing === 'window' || first === undefined || last === undefined) return present;
  const days: number[] = [];
  for (let day = first; day <= last; day += DAY_MS) days.push(day);
  return days;
}

function topWorkloads(groups: readonly Group[], sums: ReadonlyMap<string, bigint>): TopWorkload[] {
  return groups
    .filter((g) => !g.idle)
    .sort((a, b) => (a.cost > b.cost ? -1 : a.cost < b.cost ? 1 : a.keys.join('\0') < b.keys.join('\0') ? -1 : 1))
    .slice(0, TOP_WORKLOADS)
    .map((g) => {
      const [clusterId = '', workload = ''] = g.keys;
      // namespace/Kind/name: none of the three may hold a '/'.
      const [namespace = '', kind = '', ...name] = workload.split('/');
      return {
        clusterId,
        namespace,
        kind,
        name: name.join('/'),
        cost: g.cost,
        currency: g.currency,
        share: percent(g.cost, sums.get(g.currency) ?? 0n),
      };
    });
}

/** Per cluster and currency: the idle cost (Node rows) of all the cost; then all clusters, when several. */
function idleLines(groups: readonly BucketGroup[]): IdleLine[] {
  const sums = new Map<string, { clusterId: string; currency: string; idle: bigint; total: bigint }>();
  const add = (clusterId: string, g: BucketGroup) => {
    const id = JSON.stringify([clusterId, g.currency]);
    const sum = sums.get(id) ?? { clusterId, currency: g.currency, idle: 0n, total: 0n };
    sum.total += g.cost;
    if (g.idle) sum.idle += g.cost;
    sums.set(id, sum);
  };
  for (const g of groups) add(g.clusterId, g);
  const clusters = new Set(groups.map((g) => g.clusterId));
  if (clusters.size > 1) for (const g of groups) add('', g);
  return [...sums.values()]
    .sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0) || clusterOrder(a, b))
    .map((s) => ({ ...s, share: percent(s.idle, s.total) }));
}

/** Clusters by id, the line of all clusters last. */
function clusterOrder(a: { clusterId: string }, b: { clusterId: string }): number {
  if (a.clusterId === b.clusterId) return 0;
  if (a.clusterId === '') return 1;
  if (b.clusterId === '') return -1;
  return a.clusterId < b.clusterId ? -1 : 1;
}
