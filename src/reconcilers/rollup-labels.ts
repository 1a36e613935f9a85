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

/** What a pod that lacks a key was rolled up by, and from which objects. */
interface Memo {
  readonly ref: WorkloadRef;
  readonly workloadKey: string;
  readonly workload: Dict | undefined;
  readonly namespace: Dict | undefined;
  readonly value: LabelValues;
}

/** Shared values are dropped past this many combinations (label values that churn, such as experiment ids). */
const MAX_COMBINATIONS = 10_000;

/**
 * rollupLabelValues for each pod of a cycle, built again only when one of its three sources changed (the
 * cache replaces a labels object when its object changes). A fleet has 10,000 pods a cycle and a handful of
 * label combinations, so each combination's values are shared, and a pod that carries every key keeps only a
 * reference to them.
 */
export class RollupLabels {
  /** Pods that carry every key: their workload and namespace do not matter. */
  private readonly complete = new WeakMap<Dict, LabelValues>();
  private readonly partial = new WeakMap<Dict, Memo>();
  private readonly combinations = new Map<string, LabelValues>();
  private readonly keys: readonly string[];
  private readonly sources: LabelSources;

  constructor(keys: readonly string[], sources: LabelSources) {
    this.keys = keys;
    this.sources = sources;
  }

  readonly of = (pod: PodFacts): LabelValues => {
    const own = pod.labels;
    const done = this.complete.get(own);
    if (done) return done;
    const hit = this.partial.get(own);
    if (!hit && this.keys.every((k) => own[k] !== undefined)) {
      const value = this.shared(rollupLabelValues(this.keys, own, undefined, undefined));
      this.complete.set(own, value);
      return value;
    }
    const ref = pod.workload;
    const workloadKey = hit?.ref === ref ? hit.workloadKey : `${ref.namespace}/${ref.name}`;
    const workload = this.sources.workload(ref.kind, workloadKey);
    const namespace = this.sources.namespace(pod.namespace);
    if (hit?.ref === ref && hit.workload === workload && hit.namespace === namespace) return hit.value;
    const value = this.shared(rollupLabelValues(this.keys, own, workload, namespace));
    this.partial.set(own, { ref, workloadKey, workload, namespace, value });
    return value;
  };

  private shared(values: string[]): LabelValues {
    const key = values.join('\u0000');
    let value = this.combinations.get(key);
    if (!value) {
      if (this.combinations.size >= MAX_COMBINATIONS) this.combinations.clear();
      value = { key, values };
      this.combinations.set(key, value);
    }
    return value;
  }
}
