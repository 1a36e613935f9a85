/**
 * The values a pod's cost rolls up by (--label-keys): each key from the first of these that carries it, else
 * UNSET ("__unset__"):
 * 1. the pod's own labels;
 * 2. its workload's own metadata labels (a Job, Deployment or StatefulSet; not its pod template's);
 * 3. its namespace's labels.
 * So a team label set once on a namespace, or on a Job and not on its pod template, still counts. A label
 * carried with an empty value counts as carried.
 */
import { UNSET } from '../cost/rollup.ts';
import type { PodFacts, WorkloadRef } from '../cost/types.ts';
import type { LabelValues } from './rollup-rows.ts';

type Dict = Readonly<Record<string, string>>;

export function rollupLabelValues(
  keys: readonly string[],
  pod: Dict,
  workload: Dict | undefined,
  namespace: Dict | undefined,
): string[] {
  return keys.map((k) => pod[k] ?? workload?.[k] ?? namespace?.[k] ?? UNSET);
}

/** Where the workload's and the namespace's labels are read: the cluster cache. */
export interface LabelSources {
  /** A Job's, Deployment's or StatefulSet's labels by "namespace/name"; undefined for other kinds. */
  workload(kind: WorkloadRef['kind'], key: string): Dict | undefined;
  namespace(name: string): Dict | undefined;
}

interface Memo {
  readonly ref: WorkloadRef;
  readonly workloadKey: string;
  readonly workload: Dict | undefined;
  readonly namespace: Dict | undefined;
  /** The pod carries every key: the other sources do not matter. */
  readonly complete: boolean;
  readonly value: LabelValues;
}

/**
 * rollupLabelValues for each pod of a cycle, built again only when one of its three sources changed (the
 * cache replaces a labels object when its object changes): a fleet has 10,000 pods a cycle and a handful of
 * label combinations.
 */
export class RollupLabels {
  private readonly memo = new WeakMap<Dict, Memo>();
  private readonly keys: readonly string[];
  private readonly sources: LabelSources;

  constructor(keys: readonly string[], sources: LabelSources) {
    this.keys = keys;
    this.sources = sources;
  }

  readonly of = (pod: PodFacts): LabelValues => {
    const hit = this.memo.get(pod.labels);
    if (hit?.complete) return hit.value;
    const ref = pod.workload;
    const workloadKey = hit?.ref === ref ? hit.workloadKey : `${ref.namespace}/${ref.name}`;
    const workload = this.sources.workload(ref.kind, workloadKey);
    const namespace = this.sources.namespace(pod.namespace);
    if (hit?.ref === ref && hit.workload === workload && hit.namespace === namespace) return hit.value;
    const values = rollupLabelValues(this.keys, pod.labels, workload, namespace);
    const value = { key: values.join('\u0000'), values };
    const complete = this.keys.every((k) => pod.labels[k] !== undefined);
    this.memo.set(pod.labels, { ref, workloadKey, workload, namespace, complete, value });
    return value;
  };
}
