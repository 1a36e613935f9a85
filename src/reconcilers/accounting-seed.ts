/**
 * Which ledgers the accountant takes from annotations at the start of a cycle (see adoptAnnotationLedgers).
 */
import type { Logger } from 'pino';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { PodRecord } from '../controller/projections.ts';
import type { Ledger } from '../cost/ledger.ts';
import { workloadKey } from '../cost/rollup.ts';
import type { PodFacts } from '../cost/types.ts';
import type { AccountingLedger } from './accounting-ledger.ts';
import { ofNoWorkload, type Ledgers } from './accounting-plan.ts';
import { annotationLedgerProblem } from './annotation-import.ts';
import { workloadRecordOf } from './node-facts.ts';

/** A cached object with the ledger parsed from its annotations, and those annotations when the cache keeps them. */
interface Annotated {
  readonly ledger: Ledger | undefined;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface AdoptInput {
  readonly cache: ClusterCache;
  readonly ledger: Pick<AccountingLedger, 'importsAnnotations' | 'importBalance'>;
  readonly log: Logger;
  readonly ledgers: { readonly [K in keyof Ledgers]: Map<string, Ledger> };
  /** The cycle's pods, with their cache keys ("namespace/name") at the same index. */
  readonly pods: readonly PodFacts[];
  readonly keys: readonly string[];
  /** Pods deleted since the last cycle, by uid: their last record, annotations included. */
  readonly tombstones: ReadonlyMap<string, PodRecord>;
  readonly currency: string;
  readonly cycleStartSeconds: number;
  readonly nowSeconds: number;
}

/**
 * Adopts ledgers from the annotations where they are ahead of memory, and believable (annotation-import.ts):
 * for a workload's pods and for namespaces, which have no ledger rows of their own, after a start or for
 * objects new to this replica. Workloads and bare pods resume from the durable ledger (AccountingLedger.ready)
 * and never from annotations, which a tenant may edit; only on a first start with an empty ledger are theirs
 * imported, once, as opening balances. A ledger already at the cycle's start was written by this replica last
 * cycle, and no other replica writes while it holds the lease, so the annotations are not read again for it.
 */
export function adoptAnnotationLedgers(input: AdoptInput): void {
  const { cache, ledger, log, currency, cycleStartSeconds, nowSeconds } = input;
  const importing = ledger.importsAnnotations;
  const adopt = (map: Map<string, Ledger>, id: string, from: Annotated | undefined, targetId?: string) => {
    const mine = map.get(id);
    const found = from?.ledger;
    if ((mine?.accountedUntil ?? -1) >= cycleStartSeconds || !found) return;
    if ((targetId !== undefined && !importing) || (mine && found.accountedUntil <= mine.accountedUntil)) return;
    const problem = annotationLedgerProblem(found, from.annotations, nowSeconds, currency);
    if (problem !== undefined) {
      log.info({ object: id, problem }, 'ledger annotations ignored');
      return;
    }
    map.set(id, found);
    if (targetId !== undefined) ledger.importBalance(targetId, found);
  };
  const { pods: podLedgers, workloads, namespaces } = input.ledgers;
  const seen = new Set<string>();
  for (let i = 0; i < input.pods.length; i++) {
    const pod = input.pods[i] as PodFacts;
    const bare = ofNoWorkload(pod);
    const record = cache.pods.store.get(input.keys[i] ?? '') ?? input.tombstones.get(pod.uid);
    // A bare pod that names an owner and is not in the ledger yet was most likely its owner's until the owner
    // left the cache: what its annotations show went into the owner's rows, and only tells its new Pod target
    // where to start (accounting-ledger.ts billedElsewhere), never an amount of its own.
    const lingering = bare && !importing && record?.owner !== undefined && !podLedgers.has(pod.uid);
    adopt(podLedgers, pod.uid, record, bare && !lingering ? `Pod/${pod.uid}` : undefined);
    const key = workloadKey(pod.workload);
    if (!bare && !seen.has(key)) {
      seen.add(key);
      const record = workloadRecordOf(cache, pod.workload.kind, `${pod.namespace}/${pod.workload.name}`);
      adopt(workloads, key, record, key);
    }
    if (!seen.has(pod.namespace)) {
      seen.add(pod.namespace);
      adopt(namespaces, pod.namespace, cache.namespaces.store.get(pod.namespace));
    }
  }
}
