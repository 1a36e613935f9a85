/**
 * Forgets the objects that are gone, so that memory follows the live objects and not every object the cluster
 * ever had (after 3,000 short Jobs, all deleted, 3,000 pod ledgers, 3,000 workload ledgers and 6,001 writer
 * states stayed until a leader change). An object is gone when the cache no longer has it (a workload or pod by
 * its uid) and this cycle accrued nothing for it; its entries then go:
 * - its annotation writer state at once (a write would find nothing);
 * - its ledgers in the accountant and its target in the durable ledger only once the ledger's rows of it are all
 *   in windows the sink confirmed written (AccountingLedger.settled): a deleted Job's cost must be recorded
 *   before it is forgotten, and a restart before then resumes it from the ledger as before.
 * A namespace's ledger has no rows of its own (its cost is in its workloads'): it goes at once.
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { PodRecord } from '../controller/projections.ts';
import type { Ledger } from '../cost/ledger.ts';
import type { AccountingLedger } from './accounting-ledger.ts';
import type { AccountingPlan, Ledgers } from './accounting-plan.ts';
import type { AnnotationWriter, WriteTarget } from './annotation-writer.ts';
import { workloadRecordOf } from './node-facts.ts';

export interface DepartedInput {
  readonly cache: ClusterCache;
  readonly ledgers: { readonly [K in keyof Ledgers]: Map<string, Ledger> };
  readonly ledger: Pick<AccountingLedger, 'settled' | 'forgetGone'>;
  readonly writer: Pick<AnnotationWriter, 'forgetGone'>;
  /** Pods deleted whose final span is not yet accrued, by uid: not gone yet. */
  readonly tombstones: ReadonlyMap<string, PodRecord>;
  /** This cycle's plan: what it accrued is not gone, whatever the cache says. */
  readonly plan: Pick<AccountingPlan, 'pods' | 'workloads' | 'namespaces'>;
}

/** Forgets what is gone and written; returns how many gone objects wait for their rows to be written. */
export function forgetDeparted(input: DepartedInput): number {
  const { cache, ledgers, ledger, plan } = input;
  const livePods = new Set<string>(input.tombstones.keys());
  for (const pod of cache.pods.store.values()) livePods.add(pod.uid);
  for (const uid of plan.pods.keys()) livePods.add(uid);
  const workloadGone = (key: string) => !plan.workloads.has(key) && recordOf(cache, key) === undefined;
  const targetGone = (id: string): boolean => {
    // A workload retired under its old uid (its name now belongs to another object) is gone by definition.
    if (id.includes('#')) return true;
    if (id.startsWith('Pod/')) return !livePods.has(id.slice('Pod/'.length));
    if (id.startsWith('Node/')) return !cache.nodes.store.has(id.slice('Node/'.length));
    return workloadGone(id);
  };

  let waiting = ledger.forgetGone(targetGone);
  /** Forgets a map's gone entries, each once its ledger target (if it has one) is settled. */
  const forget = (map: Map<string, Ledger>, gone: (key: string) => boolean, targetOf?: (key: string) => string) => {
    for (const key of map.keys()) {
      if (!gone(key)) continue;
      if (!targetOf || ledger.settled(targetOf(key))) map.delete(key);
      else waiting++;
    }
  };
  // A pod of a workload has no target of its own: its cost is in its workload's rows, so `settled` is true.
  forget(
    ledgers.pods,
    (uid) => !livePods.has(uid),
    (uid) => `Pod/${uid}`,
  );
  forget(ledgers.workloads, workloadGone, (key) => key);
  forget(ledgers.namespaces, (name) => !plan.namespaces.has(name) && !cache.namespaces.store.has(name));
  input.writer.forgetGone((target) => isLive(cache, target));
  return waiting;
}

/** The cached workload of a key "Kind/namespace/name". */
function recordOf(cache: ClusterCache, key: string) {
  const [kind = '', namespace = '', name = ''] = key.split('/');
  return workloadRecordOf(cache, kind, `${namespace}/${name}`);
}

/** Whether the cache still has the object a writer state is for (the same one: by uid, where it has one). */
function isLive(cache: ClusterCache, target: WriteTarget): boolean {
  const sameUid = (uid: string | undefined) => uid !== undefined && (target.uid === '' || uid === target.uid);
  switch (target.kind) {
    case 'Pod':
      return sameUid(cache.pods.store.get(`${target.namespace}/${target.name}`)?.uid);
    case 'Namespace':
      return cache.namespaces.store.has(target.name);
    default:
      return sameUid(workloadRecordOf(cache, target.kind, `${target.namespace}/${target.name}`)?.uid);
  }
}
