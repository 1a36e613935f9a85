/**
 * Why the cost engine left a node or a pod out of a cycle (engine.ts: a bad object costs only itself), where
 * people look: a Warning Event `AccountingSkipped` on the object (a node's as the unpriced nodes' are, see
 * unpriced-nodes.ts; a pod's in its namespace) and the gauges aicost_nodes_skipped{reason} and
 * aicost_pods_skipped{reason}, how many the last cycle skipped for each reason. Events follow the unpriced
 * nodes' rule (ReasonReport): one when an object is skipped, and one more only if its reason changes, never one
 * every cycle. Pods skipped with their node are the node's Event, not one each.
 */
import type { ObjectRef } from '../controller/events.ts';
import type { FactsProblem, IntervalCost, SkipReason } from '../cost/types.ts';
import { ReasonReport } from './unpriced-nodes.ts';

export const SKIPPED_EVENT_REASON = 'AccountingSkipped';
const REASONS: readonly SkipReason[] = ['quantity', 'size', 'overflow', 'invalid', 'error'];

export interface SkippedObject {
  readonly object: ObjectRef;
  readonly problem: FactsProblem;
}

/** The nodes the engine skipped in an interval, and the pods it skipped for their own facts. */
export function skippedIn(main: IntervalCost): { nodes: SkippedObject[]; pods: SkippedObject[] } {
  const nodes: SkippedObject[] = [];
  for (const nc of main.nodes) {
    if (!nc.skipped) continue;
    const object = { apiVersion: 'v1', kind: 'Node', namespace: '', name: nc.node.name, uid: nc.node.name };
    nodes.push({ object, problem: nc.skipped });
  }
  const pods: SkippedObject[] = [];
  for (const u of main.unattributed) {
    if (u.skipped?.by !== 'pod') continue;
    const { namespace, name, uid } = u.pod;
    pods.push({ object: { apiVersion: 'v1', kind: 'Pod', namespace, name, uid }, problem: u.skipped.problem });
  }
  return { nodes, pods };
}

export class SkippedObjects extends ReasonReport {
  /** Applies this cycle's skipped objects; resolves once their Events are recorded (best effort). */
  async update(skipped: { nodes: readonly SkippedObject[]; pods: readonly SkippedObject[] }): Promise<void> {
    for (const [gauge, list] of [
      [this.metrics.nodesSkipped, skipped.nodes],
      [this.metrics.podsSkipped, skipped.pods],
    ] as const) {
      for (const reason of REASONS) gauge.set({ reason }, list.filter((s) => s.problem.reason === reason).length);
    }
    const all = [...skipped.nodes, ...skipped.pods];
    const { report } = this.changes(all.map((s) => ({ name: keyOf(s.object), reason: s.problem.reason })));
    const reported = new Set(report.map((r) => r.name));
    const toRecord = all.filter((s) => reported.has(keyOf(s.object)));
    await Promise.all(toRecord.map((s) => this.events.record(s.object, 'Warning', SKIPPED_EVENT_REASON, message(s))));
  }
}

function keyOf(o: ObjectRef): string {
  return `${o.kind}/${o.namespace}/${o.name}/${o.uid ?? ''}`;
}

function message({ object, problem }: SkippedObject): string {
  const what = object.kind === 'Node' ? 'the node and its pods are' : 'the pod is';
  return `${problem.message}; ${what} left out of accounting (no cost is recorded) until this is fixed`;
}
