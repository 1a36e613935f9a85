/**
 * The accountant's storage (issue #18; docs/cost-model.md#storage): each cycle, the bound claims in the cache,
 * priced by class, and the running pods that mount them, planned by planStorage; then, for the ledger, each
 * workload's share and each claim's unattached share as observations beside the compute ones.
 *
 * A claim's share goes to a Job, Deployment or StatefulSet the pod's owner reference resolves to (uid-checked,
 * as for compute). A bare pod, or one whose owner is not cached, leaves its seconds to the claim's unattached row:
 * billed to the namespace, never lost. Unattached rows have the target id "PersistentVolumeClaim/<ns>/<name>".
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { ClaimRecord } from '../controller/storage-projections.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import { planStorage, type ClaimCost, type ClaimFacts, type MountFacts } from '../cost/storage-plan.ts';
import { DEFAULT_CUSTOM_PRICING } from '../pricing/custom-pricing.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { PricingProvider } from '../pricing/provider.ts';
import { priceStorageClass, type StoragePrice } from '../pricing/storage-prices.ts';
import type { Observation, RowDescriptor } from '../ledger/accrual.ts';
import { withStorageCost, ZERO, type Cumulative } from '../ledger/cumulative.ts';
import { rollupColumns } from '../ledger/row.ts';
import { nodeColumns } from './ledger-describe.ts';
import { workloadOf, workloadRecordOf } from './node-facts.ts';
import type { AnnotationWriter } from './annotation-writer.ts';
import { renderAnnotations, type Display, type Ledger } from '../cost/ledger.ts';
import { displayKey } from './annotations.ts';
import type { TargetUpdate } from './accounting-plan.ts';

const ATTRIBUTED = new Set(['Job', 'Deployment', 'StatefulSet']);

export interface CycleStorage {
  readonly claims: readonly ClaimCost[];
  /** By claim uid: the price it was charged at. */
  readonly prices: ReadonlyMap<string, StoragePrice>;
}

/** The cycle's storage plan over [start, end). */
export function planCycleStorage(
  cache: ClusterCache,
  pricing: PricingProvider,
  start: number,
  end: number,
): CycleStorage {
  const price = pricing.priceStorage ?? ((c, sc) => priceStorageClass(DEFAULT_CUSTOM_PRICING, c, sc));
  const claims: ClaimFacts[] = [];
  const prices = new Map<string, StoragePrice>();
  for (const claim of cache.claims.store.values()) {
    if (claim.phase !== 'Bound' || claim.quantityProblem !== undefined) continue;
    const p = price(claim.storageClass, cache.storageClasses.store.get(claim.storageClass));
    prices.set(claim.uid, p);
    claims.push(claimFacts(claim, p));
  }
  const mounts: MountFacts[] = [];
  for (const pod of cache.pods.store.values()) {
    if (!pod.claimNames?.length || pod.startedAtSeconds === undefined) continue;
    const workload = workloadOf(pod, cache);
    if (!ATTRIBUTED.has(workload.kind)) continue;
    const until = pod.endedAtSeconds ?? pod.deletingAtSeconds;
    for (const claimName of pod.claimNames)
      mounts.push({ namespace: pod.namespace, claimName, workload, from: pod.startedAtSeconds, until });
  }
  return { claims: planStorage({ start, end }, claims, mounts), prices };
}

function claimFacts(claim: ClaimRecord, price: StoragePrice): ClaimFacts {
  return {
    uid: claim.uid,
    namespace: claim.namespace,
    name: claim.name,
    storageClass: claim.storageClass,
    bytes: claim.bytes,
    nanosPerGiBMonth: price.nanosPerGiBMonth,
    // No bound time is recorded on a claim: its creation stands in (a claim pending for a while is billed from
    // then, at most one cycle, since each cycle only prices its own span).
    from: claim.createdAtSeconds,
  };
}

/** The cycle's storage plan, when there are prices to make it with. */
export function storageOf(
  cache: ClusterCache,
  pricing: PricingSource | undefined,
  cycle: { readonly cycleStartSeconds: number; readonly nowSeconds: number },
): CycleStorage | undefined {
  return pricing && planCycleStorage(cache, pricing.current(), cycle.cycleStartSeconds, cycle.nowSeconds);
}

/** Each workload key's storage cost in the cycle. */
export function storageByWorkload(storage: CycleStorage | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const c of storage?.claims ?? [])
    for (const s of c.shares) if (s.cost > 0n) out.set(s.workloadKey, (out.get(s.workloadKey) ?? 0n) + s.cost);
  return out;
}

export const claimTargetId = (c: ClaimFacts): string => `PersistentVolumeClaim/${c.namespace}/${c.name}`;

/** The row fields of a claim's unattached row: the namespace's labels, the price's source. */
export function describeClaim(
  cache: ClusterCache,
  claim: ClaimFacts,
  price: StoragePrice | undefined,
  currency: string,
): RowDescriptor {
  const namespaceLabels = cache.namespaces.store.get(claim.namespace)?.labels;
  return {
    namespace: claim.namespace,
    workloadKind: 'PersistentVolumeClaim',
    workloadName: claim.name,
    workloadUid: claim.uid,
    ...rollupColumns({}, undefined, namespaceLabels),
    labels: { ...namespaceLabels },
    namespaceLabels,
    ...nodeColumns(undefined, ''),
    podCount: 0,
    pricingSource: price ? `storage ${price.source}: ${price.detail}` : 'storage',
    estimate: price?.estimated ?? true,
    jobOutcome: '',
    currency,
    compute: 'storage',
  };
}

/** What storageObservations reads of the ledger's accrual. */
export interface StorageTargets {
  closing(id: string): Cumulative | undefined;
  describe(key: string, target: { kind: 'Job'; namespace: string; name: string }): RowDescriptor;
}

/**
 * The storage of the workloads the compute plan does not hold (no pod on a node accounted), and each claim's
 * unattached share: targets whose cost stays as it was and whose storage cost grows. `byWorkload` holds the
 * workloads left after the compute plan's took theirs.
 */
export function storageObservations(
  cycle: {
    readonly cache: ClusterCache;
    readonly nowSeconds: number;
    readonly currency: string;
    readonly storage?: CycleStorage | undefined;
  },
  byWorkload: ReadonlyMap<string, bigint>,
  targets: StorageTargets,
): Observation[] {
  const out: Observation[] = [];
  const observe = (id: string, amount: bigint, describe: RowDescriptor) => {
    const previous = targets.closing(id);
    const base: Cumulative = { ...(previous ?? ZERO), accountedUntil: cycle.nowSeconds };
    out.push({ id, cumulative: withStorageCost(base, previous, amount), describe });
  };
  for (const [key, amount] of byWorkload) {
    const [kind = '', namespace = '', name = ''] = key.split('/');
    observe(key, amount, targets.describe(key, { kind: kind as 'Job', namespace, name }));
  }
  for (const c of cycle.storage?.claims ?? []) {
    const id = claimTargetId(c.claim);
    if (c.unattachedCost === 0n && !targets.closing(id)) continue;
    const price = cycle.storage?.prices.get(c.claim.uid);
    observe(id, c.unattachedCost, describeClaim(cycle.cache, c.claim, price, cycle.currency));
  }
  return out;
}

/** The workload annotation of its storage cost so far, accrued like `aicost.dev/cost` (which stays compute). */
export const STORAGE_COST_ANNOTATION = 'aicost.dev/storage-cost';

type Render = () => Record<string, string | null>;

/** An object's ledger annotations and display key, with its storage cost when it has one. */
export function annotated(update: TargetUpdate, storage: Nanos | undefined): { key: string; render: Render } {
  const render = () => renderAnnotations(update.ledger, update.display);
  return withStorageAnnotation(displayKey(update.ledger, update.display), render, storage);
}

/** A workload's annotations and display key with its storage cost, when it has one (rewritten at a cent's change). */
export function withStorageAnnotation(
  key: string,
  render: Render,
  storage: Nanos | undefined,
): { key: string; render: Render } {
  if (storage === undefined) return { key, render };
  return {
    key: `${key}|${formatMoney(storage, 2)}`,
    render: () => ({ ...render(), [STORAGE_COST_ANNOTATION]: formatMoney(storage, 6) }),
  };
}

/**
 * Offers the storage cost annotation of a workload the compute plan does not hold (a CPU Job mounting a dataset,
 * or one whose pods are gone); 1 when a write was scheduled. The render carries its compute annotations too, from
 * its cumulative ledger (`compute`), at 0 per hour and unknown utilization, since nothing of it runs: an offer
 * replaces a pending one, and a render of storage alone would drop the last compute figures not yet written.
 */
export function offerStorageOnly(
  deps: { readonly cache: ClusterCache; readonly writer: AnnotationWriter },
  key: string,
  storage: Nanos | undefined,
  compute: Ledger | undefined,
): number {
  const [kind = '', namespace = '', name = ''] = key.split('/');
  const record = workloadRecordOf(deps.cache, kind, `${namespace}/${name}`);
  if (!record || storage === undefined) return 0;
  const target = { kind: record.kind, namespace, name, uid: record.uid, id: key };
  const idle: Display = { costPerHour: 0n, utilization: undefined };
  const s = compute
    ? withStorageAnnotation(displayKey(compute, idle), () => renderAnnotations(compute, idle), storage)
    : withStorageAnnotation('', () => ({}), storage);
  return deps.writer.offer(target, s.key, s.render) ? 1 : 0;
}

/**
 * The workload targets with a storage cost that the compute plan does not hold: their annotation is offered every
 * cycle (a no-op once written), so that its last value is written even after they stop accruing.
 */
export function storageOnlyTargets(
  ids: Iterable<string>,
  closing: (id: string) => Cumulative | undefined,
  planned: ReadonlyMap<string, unknown>,
): string[] {
  const out: string[] = [];
  for (const id of ids)
    if (ATTRIBUTED.has(id.slice(0, id.indexOf('/'))) && !planned.has(id) && closing(id)?.storageCost !== undefined)
      out.push(id);
  return out;
}
