/**
 * The workload that owns a pod under review, as the admission webhook's rules read it. Owner references are
 * written by whoever creates the pod, so they are resolved by uid through the caches (resolveOwner).
 */
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { ObjectRef } from '../controller/events.ts';
import type { WorkloadRecord } from '../controller/projections.ts';
import type { PodOwner } from '../budget/admission.ts';
import { resolveOwner } from './node-facts.ts';

export interface AdmissionOwner {
  readonly kind: string;
  readonly name: string;
  readonly apiVersion: string;
  readonly uid: string | undefined;
  readonly labels: Record<string, string>;
  /** The cached workload whose uid the reference names; undefined for a claim nobody checked. */
  readonly record: WorkloadRecord | undefined;
}

export type OwnerCache = Pick<ClusterCache, 'replicaSets' | 'jobs' | 'deployments' | 'statefulSets'>;

interface Reference {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

const API_VERSION = { Job: 'batch/v1', Deployment: 'apps/v1', StatefulSet: 'apps/v1', ReplicaSet: 'apps/v1' } as const;

/**
 * The workload that owns the pod, resolved by uid through its ReplicaSet to a Deployment (resolveOwner),
 * with its labels; undefined for a bare pod, and for one whose reference names a cached object of another
 * uid (forged): it gets neither that workload's labels nor its Events. An owner not yet cached (a pod is
 * admitted as its owner is created, so the cache may well lag here) is taken by name without labels, as
 * the pod's own claim: it decides nothing for another object.
 */
export function admissionOwner(namespace: string, references: unknown, cache: OwnerCache): AdmissionOwner | undefined {
  const refs: Reference[] = Array.isArray(references)
    ? references.filter((o): o is Reference => typeof o === 'object' && o !== null)
    : [];
  const ref = refs.find((o) => o.controller) ?? refs[0];
  if (typeof ref?.kind !== 'string' || typeof ref.name !== 'string' || !ref.kind || !ref.name) return undefined;
  const owner = resolveOwner(namespace, { kind: ref.kind, name: ref.name, uid: ref.uid ?? '' }, cache);
  if (!owner) return undefined;
  if (owner.record) {
    const { kind, name, uid, labels } = owner.record;
    return { kind, name, apiVersion: API_VERSION[kind], uid, labels: { ...labels }, record: owner.record };
  }
  return {
    kind: ref.kind,
    name: ref.name,
    apiVersion: ref.apiVersion ?? API_VERSION[ref.kind as keyof typeof API_VERSION],
    uid: ref.uid,
    labels: {},
    record: undefined,
  };
}

/** The owner as a budget judges it: only a cached workload's creation time makes a pod a replacement. */
export function podOwner(owner: AdmissionOwner | undefined): PodOwner {
  if (!owner) return undefined;
  return owner.record
    ? { verified: true, kind: owner.kind, name: owner.name, createdAtSeconds: owner.record.createdAtSeconds }
    : { verified: false, kind: owner.kind, name: owner.name };
}

/** What the webhook's Events are about: the owner (the pod has no name yet), else `fallback`. */
export function eventSubject(owner: AdmissionOwner | undefined, namespace: string, fallback: ObjectRef): ObjectRef {
  return owner
    ? { apiVersion: owner.apiVersion, kind: owner.kind, namespace, name: owner.name, uid: owner.uid }
    : fallback;
}
