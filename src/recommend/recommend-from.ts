/**
 * The rules run over what the sources gave, shared by `aicost recommend` (command.ts) and the operator's
 * recommender (src/reconcilers/recommender.ts): the same rules, so the two never disagree on the same data.
 */
import type { LedgerRow } from '../ledger/row.ts';
import { ON_DEMAND_CATALOG } from '../pricing/on-demand-catalog.ts';
import { emptyNodes, type EmptyNodeSettings } from './empty-nodes.ts';
import { observeWorkloads } from './observe.ts';
import { fewerGpus, rightSize, type RightSizeSettings } from './right-size.ts';
import type { Recommendation } from './types.ts';
import type { PodObservation } from './workload-observation.ts';

const GPU_COUNT = new Map(ON_DEMAND_CATALOG.map((e) => [e.instanceType, e.gpuCount]));

/**
 * Right-size and fewer-GPUs, from `recent` (the finished ledger windows that make up the window) and the pods'
 * observations; `ownerOf` as observeWorkloads takes it.
 */
export function workloadRecommendations(
  recent: readonly LedgerRow[],
  pods: ReadonlyMap<string, PodObservation>,
  s: RightSizeSettings,
  ownerOf?: (podKey: string) => string | undefined,
): Recommendation[] {
  const found: Recommendation[] = [];
  for (const w of observeWorkloads(recent, pods, s.minObservedSeconds, ownerOf))
    for (const r of [rightSize(w, ON_DEMAND_CATALOG, s), fewerGpus(w, s)]) if (r !== undefined) found.push(r);
  return found;
}

/** Empty GPU nodes, from the Node rows among `rows` (finished windows); each cluster's last window is its latest row's. */
export function nodeRecommendations(rows: readonly LedgerRow[], s: EmptyNodeSettings): Recommendation[] {
  const last = new Map<string, number>();
  for (const r of rows) last.set(r.clusterId, Math.max(last.get(r.clusterId) ?? -Infinity, r.windowStartMs));
  const nodeRows = rows.filter((r) => r.workloadKind === 'Node');
  return emptyNodes(nodeRows, last, (t) => GPU_COUNT.get(t), s);
}
