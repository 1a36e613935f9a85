/**
 * The roll-ups of one cycle's main segment as the metrics show them: cost by namespace and by the values of
 * the roll-up label keys, each with one more row, IDLE ("__idle__"), for the idle bucket (the capacity of the
 * priced accounted nodes, GPU and CPU-only, that no pod requested). So each roll-up adds up to the node cost of the segment, to the
 * nano. Pods on unpriced nodes have no cost and are in no row; neither are their nodes in the node cost.
 * Neither name can be a real one: namespace names and label values never start with an underscore.
 */
import type { Nanos } from '../cost/money.ts';
import { IDLE } from '../cost/rollup.ts';
import type { IntervalCost, PodFacts } from '../cost/types.ts';

/** A pod's roll-up label values, in the order of the keys, and a string that identifies them. */
export interface LabelValues {
  readonly key: string;
  readonly values: readonly string[];
}

export interface LabelRow {
  readonly values: readonly string[];
  total: Nanos;
}

export interface RollupRows {
  /** By namespace; IDLE last. */
  readonly namespaces: Map<string, Nanos>;
  /** By LabelValues.key; the IDLE row, every value IDLE, last. */
  readonly labels: Map<string, LabelRow>;
  /** Cost of the priced accounted nodes: what each roll-up adds up to. */
  readonly nodeCost: Nanos;
  readonly idle: Nanos;
}

/** The key of the IDLE row in RollupRows.labels: no joined label values can be it. */
export const IDLE_ROW = `${IDLE}\u0001`;

export function rollupRows(
  main: IntervalCost,
  labelKeyCount: number,
  labelsOf: (pod: PodFacts) => LabelValues,
): RollupRows {
  const namespaces = new Map<string, Nanos>();
  // Summed per label combination first: a fleet has thousands of pods and a handful of combinations, and each
  // counter increment hashes its labels.
  const labels = new Map<string, LabelRow>();
  for (const pc of main.pods) {
    if (!pc.cost) continue;
    const total = pc.cost.total;
    namespaces.set(pc.pod.namespace, (namespaces.get(pc.pod.namespace) ?? 0n) + total);
    const values = labelsOf(pc.pod);
    const row = labels.get(values.key);
    if (row) row.total += total;
    else labels.set(values.key, { values: values.values, total });
  }
  let nodeCost = 0n;
  let idle = 0n;
  let priced = false;
  for (const nc of main.nodes) {
    if (!nc.cost || !nc.idle) continue;
    priced = true;
    nodeCost += nc.cost.total;
    idle += nc.idle.total;
  }
  // The row is there whenever a priced node is, at zero too: a roll-up keeps the same rows while capacity fills.
  if (priced) {
    namespaces.set(IDLE, idle);
    const values = Array<string>(labelKeyCount).fill(IDLE);
    labels.set(IDLE_ROW, { values, total: idle });
  }
  return { namespaces, labels, nodeCost, idle };
}
