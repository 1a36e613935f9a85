/** The cycle's pods grouped as the ledger needs them: by node, and by ledger target. */
import { workloadKey } from '../cost/rollup.ts';
import type { PodFacts } from '../cost/types.ts';
import { ofNoWorkload } from './accounting-plan.ts';

export function groupByNode(pods: readonly PodFacts[]): Map<string, PodFacts[]> {
  const out = new Map<string, PodFacts[]>();
  for (const pod of pods) {
    let list = out.get(pod.nodeName);
    if (!list) out.set(pod.nodeName, (list = []));
    list.push(pod);
  }
  return out;
}

/** The cycle's pods by ledger target: a workload's under its key, a pod of no workload under "Pod/<uid>". */
export function groupByTarget(pods: readonly PodFacts[]): Map<string, PodFacts[]> {
  const out = new Map<string, PodFacts[]>();
  for (const pod of pods) {
    const id = ofNoWorkload(pod) ? `Pod/${pod.uid}` : workloadKey(pod.workload);
    let list = out.get(id);
    if (!list) out.set(id, (list = []));
    list.push(pod);
  }
  return out;
}
