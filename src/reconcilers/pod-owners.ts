/**
 * The workload each live pod was last verified to belong to. Watches are separate streams, so when a workload
 * is deleted its cached record usually goes before its pods do (a Job deleted in the background or the
 * foreground, a namespace emptied), and for a moment those pods name an owner the cache no longer holds. They
 * stay that workload's: the cache verified the owner by uid while it held it (node-facts.ts resolveOwner).
 * Billed to themselves instead, they would open a ledger target of their own and carry their whole life into
 * it, a second time.
 *
 * Only a pod once verified is kept: an owner never seen (a forged reference, or a new owner's watch event not
 * in yet) still makes the pod bare, as workloadOf says.
 */
import type { PodRecord } from '../controller/projections.ts';
import type { WorkloadRef } from '../cost/types.ts';
import { resolveOwner, type OwnerStores } from './node-facts.ts';

export class PodOwners {
  private readonly verified = new Map<string, WorkloadRef>();

  workloadOf(pod: PodRecord, stores: OwnerStores): WorkloadRef {
    const owner = resolveOwner(pod.namespace, pod.owner, stores);
    if (owner && owner.kind !== 'Uncached') {
      const known = this.verified.get(pod.uid);
      if (known?.kind === owner.kind && known.name === owner.name) return known;
      const ref: WorkloadRef = { kind: owner.kind, namespace: pod.namespace, name: owner.name };
      this.verified.set(pod.uid, ref);
      return ref;
    }
    const known = owner?.kind === 'Uncached' ? this.verified.get(pod.uid) : undefined;
    return known ?? { kind: 'Pod', namespace: pod.namespace, name: pod.name };
  }

  /** The pod is gone and accounted for the last time. */
  forget(uid: string): void {
    this.verified.delete(uid);
  }

  get size(): number {
    return this.verified.size;
  }
}

/** How long a standby (or a leader whose cycles stopped) keeps a deleted pod for a cycle that may come. */
const IDLE_TOMBSTONE_SECONDS = 600;

/**
 * Pods deleted since the last cycle, kept until their final span is accrued, and every pod's verified owner.
 * Both follow the pod watch on every replica, so a standby that takes over knows them; a replica that does
 * not cycle drops deleted pods after IDLE_TOMBSTONE_SECONDS, so churn does not grow it.
 */
export class PodDepartures {
  readonly owners = new PodOwners();
  private readonly departed = new Map<string, PodRecord>();

  get tombstones(): ReadonlyMap<string, PodRecord> {
    return this.departed;
  }

  /**
   * A pod watch event: `current` undefined is a deletion, seen at `nowSeconds`; the pod was last known to run
   * at `seenUntilSeconds` (earlier when the watch was lost before, and a relist found it gone).
   */
  onPodChange(
    current: PodRecord | undefined,
    previous: PodRecord | undefined,
    stores: OwnerStores,
    { nowSeconds, seenUntilSeconds = nowSeconds }: { nowSeconds: number; seenUntilSeconds?: number },
  ): void {
    const pod = current ?? previous;
    if (pod) this.owners.workloadOf(pod, stores);
    if (current !== undefined || previous === undefined) return;
    // A deletion timestamp is the grace period's deadline: a pod gone from the API before it has stopped.
    const endedAtSeconds =
      previous.endedAtSeconds ?? Math.min(previous.deletingAtSeconds ?? seenUntilSeconds, seenUntilSeconds);
    this.departed.set(previous.uid, { ...previous, endedAtSeconds });
    // Insertion order is about deletion order: drop from the front while it is stale.
    for (const [uid, t] of this.departed) {
      if ((t.endedAtSeconds ?? 0) >= nowSeconds - IDLE_TOMBSTONE_SECONDS) break;
      this.drop(uid);
    }
  }

  /** After a cycle that accrued up to `endSeconds`: pods ended by then are accounted for the last time. */
  settle(endSeconds: number): void {
    for (const [uid, t] of this.departed) if ((t.endedAtSeconds ?? 0) <= endSeconds) this.drop(uid);
  }

  private drop(uid: string): void {
    this.departed.delete(uid);
    this.owners.forget(uid);
  }
}
