/**
 * Who pays for a persistent volume claim over an interval (issue #18), a pure function of plain facts:
 *
 * - A claim costs its size × the seconds it was bound inside the interval × its class's price (storage-prices.ts),
 *   rounded once to the nano. The size is the claim's bound capacity (status.capacity, what the volume holds and
 *   the cloud bills), else its request.
 * - Each second of that is paid by the workloads whose running pods mount the claim in that second, in equal
 *   parts: a workload counts once however many of its pods mount it, and two workloads sharing a dataset pay half
 *   each. Seconds no running pod mounts it go to the claim's own "unattached" share, billed to its namespace: a
 *   checkpoint volume left behind by a finished Job still costs money.
 * - The parts add up to the claim's cost exactly: the cost is split over spans of constant mounting by seconds,
 *   then each span's amount equally among its workloads, both by largest remainder (money.ts apportion).
 *
 * Storage is kept apart from compute: nothing here touches a node's cost, so allocated + idle = node cost still
 * holds, and storage has its own conservation, claim cost = workload shares + unattached.
 */
import { apportion, divRoundHalfUp, type Nanos } from './money.ts';
import type { EpochSeconds, Interval, WorkloadRef } from './types.ts';

export interface ClaimFacts {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly storageClass: string;
  /** Bound capacity in bytes, else the request. */
  readonly bytes: number;
  readonly nanosPerGiBMonth: Nanos;
  /** When the claim was bound (or created), and when it was deleted, if inside the interval. */
  readonly from: EpochSeconds;
  readonly until?: EpochSeconds | undefined;
}

/** A running pod's mount of a claim of its namespace, by claim name. */
export interface MountFacts {
  readonly namespace: string;
  readonly claimName: string;
  readonly workload: WorkloadRef;
  /** When the pod ran: from its start to its end, if it ended. */
  readonly from: EpochSeconds;
  readonly until?: EpochSeconds | undefined;
}

export interface StorageShare {
  /** "Kind/namespace/name", the key of the workload's ledger (accounting-plan.ts). */
  readonly workloadKey: string;
  readonly workload: WorkloadRef;
  /** Seconds a pod of the workload mounted the claim (shared seconds count whole). */
  readonly seconds: number;
  readonly cost: Nanos;
}

export interface ClaimCost {
  readonly claim: ClaimFacts;
  /** Seconds the claim was bound inside the interval. */
  readonly seconds: number;
  readonly cost: Nanos;
  /** By workload key, sorted. */
  readonly shares: readonly StorageShare[];
  readonly unattachedSeconds: number;
  readonly unattachedCost: Nanos;
}

/** Seconds in the 730-hour month (8,760 / 12) that prices per GiB-month are spread over. */
export const SECONDS_PER_MONTH = 730 * 3600;
export const BYTES_PER_GIB = 2 ** 30;

/**
 * Cost of `bytes` held for `seconds` at `nanosPerGiBMonth`, rounded half up to the nano: price × bytes × seconds /
 * (2^30 × 2,628,000), all in bigint, so no float touches it.
 */
export function storageCost(nanosPerGiBMonth: Nanos, bytes: number, seconds: number): Nanos {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer`);
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`seconds must be a non-negative integer`);
  return divRoundHalfUp(
    nanosPerGiBMonth * BigInt(bytes) * BigInt(seconds),
    BigInt(BYTES_PER_GIB) * BigInt(SECONDS_PER_MONTH),
  );
}

export const workloadKeyOf = (w: WorkloadRef): string => `${w.kind}/${w.namespace}/${w.name}`;

/** Every claim's cost over the interval and who pays it; claims not bound inside the interval are left out. */
export function planStorage(
  interval: Interval,
  claims: readonly ClaimFacts[],
  mounts: readonly MountFacts[],
): ClaimCost[] {
  const byClaim = new Map<string, MountFacts[]>();
  for (const m of mounts) {
    const key = `${m.namespace}/${m.claimName}`;
    const list = byClaim.get(key);
    if (list) list.push(m);
    else byClaim.set(key, [m]);
  }
  const costs: ClaimCost[] = [];
  for (const claim of claims) {
    const start = Math.max(interval.start, claim.from);
    const end = Math.min(interval.end, claim.until ?? interval.end);
    if (end <= start) continue;
    costs.push(costClaim(claim, { start, end }, byClaim.get(`${claim.namespace}/${claim.name}`) ?? []));
  }
  return costs;
}

function costClaim(claim: ClaimFacts, span: Interval, mounts: readonly MountFacts[]): ClaimCost {
  const seconds = span.end - span.start;
  const cost = storageCost(claim.nanosPerGiBMonth, claim.bytes, seconds);
  // Each workload's mounting seconds, as a sorted set of boundaries where the set of mounting workloads changes.
  const workloads = new Map<string, WorkloadRef>();
  const edges = new Set<number>([span.start, span.end]);
  const clipped: { key: string; start: number; end: number }[] = [];
  for (const m of mounts) {
    const start = Math.max(span.start, m.from);
    const end = Math.min(span.end, m.until ?? span.end);
    if (end <= start) continue;
    const key = workloadKeyOf(m.workload);
    workloads.set(key, m.workload);
    clipped.push({ key, start, end });
    edges.add(start);
    edges.add(end);
  }
  const keys = [...workloads.keys()].sort();
  const points = [...edges].sort((a, b) => a - b);
  // Spans of constant mounting: who mounts in each, and its length. The unattached spans come last, as one party.
  const spans: { seconds: number; who: string[] }[] = [];
  let unattachedSeconds = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i] as number;
    const b = points[i + 1] as number;
    const who = keys.filter((k) => clipped.some((c) => c.key === k && c.start <= a && c.end >= b));
    if (who.length === 0) unattachedSeconds += b - a;
    else spans.push({ seconds: b - a, who });
  }
  const amounts = apportion(cost, [...spans.map((s) => s.seconds), unattachedSeconds]);
  const costOf = new Map<string, Nanos>(keys.map((k) => [k, 0n]));
  const secondsOf = new Map<string, number>(keys.map((k) => [k, 0]));
  spans.forEach((s, i) => {
    const parts = apportion(
      amounts[i] as Nanos,
      s.who.map(() => 1),
    );
    s.who.forEach((k, j) => {
      costOf.set(k, (costOf.get(k) ?? 0n) + (parts[j] as Nanos));
      secondsOf.set(k, (secondsOf.get(k) ?? 0) + s.seconds);
    });
  });
  return {
    claim,
    seconds,
    cost,
    shares: keys.map((k) => ({
      workloadKey: k,
      workload: workloads.get(k) as WorkloadRef,
      seconds: secondsOf.get(k) ?? 0,
      cost: costOf.get(k) ?? 0n,
    })),
    unattachedSeconds,
    unattachedCost: amounts[spans.length] as Nanos,
  };
}
