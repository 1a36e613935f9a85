/**
 * Why a GPU node is unpriced, where a platform team looks for it: a Warning Event on the Node (reason
 * Unpriced; in the namespace "default" and with the node's name as its uid, as the kubelet records node
 * events, so `kubectl describe node` lists it and no write permission on Nodes is needed) and the gauge
 * aicost_unpriced_nodes{node,reason}, 1 per unpriced node. Both change when a node's reason does, not every
 * cycle: a node unpriced for days gets one Event, and one more only if the reason changes.
 */
import type { EventRecorder } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';

export interface UnpricedNode {
  readonly name: string;
  readonly reason: string;
}

export interface UnpricedChanges {
  /** Nodes unpriced since the last cycle, or now for another reason: one Event and one series each. */
  readonly report: readonly UnpricedNode[];
  /** Series to remove: each node's former reason (it is priced now, gone, or unpriced for another reason). */
  readonly clear: readonly UnpricedNode[];
  /** The reason of each unpriced node, for the next cycle. */
  readonly next: ReadonlyMap<string, string>;
}

export function diffUnpriced(known: ReadonlyMap<string, string>, current: readonly UnpricedNode[]): UnpricedChanges {
  const next = new Map(current.map((n) => [n.name, n.reason]));
  const report = current.filter((n) => known.get(n.name) !== n.reason);
  const clear: UnpricedNode[] = [];
  for (const [name, reason] of known) if (next.get(name) !== reason) clear.push({ name, reason });
  return { report, clear, next };
}

/**
 * A report that says why about objects each cycle (unpriced nodes here, skipped objects in
 * skipped-objects.ts): it remembers each object's last reason, so that what changed is reported, not all.
 */
export class ReasonReport {
  private known: ReadonlyMap<string, string> = new Map();
  protected readonly metrics: Metrics;
  protected readonly events: EventRecorder;

  constructor(metrics: Metrics, events: EventRecorder) {
    this.metrics = metrics;
    this.events = events;
  }

  /** This cycle's objects (by name) and reasons against the last cycle's (diffUnpriced); remembers these. */
  protected changes(current: readonly UnpricedNode[]): UnpricedChanges {
    const changes = diffUnpriced(this.known, current);
    this.known = changes.next;
    return changes;
  }
}

export class UnpricedNodes extends ReasonReport {
  /** Applies this cycle's unpriced nodes; resolves once their Events are recorded (best effort). */
  async update(current: readonly UnpricedNode[]): Promise<void> {
    const { report, clear } = this.changes(current);
    for (const n of clear) this.metrics.unpricedNodes.remove({ node: n.name, reason: n.reason });
    for (const n of report) this.metrics.unpricedNodes.set({ node: n.name, reason: n.reason }, 1);
    await Promise.all(
      report.map((n) =>
        this.events.record(
          { apiVersion: 'v1', kind: 'Node', namespace: '', name: n.name, uid: n.name },
          'Warning',
          'Unpriced',
          `${n.reason}; the cost of its pods is unknown until it has a price`,
        ),
      ),
    );
  }
}
