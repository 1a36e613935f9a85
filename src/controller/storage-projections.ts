/**
 * Projections of the objects storage is priced from (issue #18): PersistentVolumeClaims (their class, size and
 * phase) and StorageClasses (their provisioner and parameters), and the claims a pod mounts.
 */
import { parseUnits, QuantityError } from '../cost/quantity.ts';
import type { Meta } from './projections.ts';

export interface ClaimRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
  /** spec.storageClassName; '' when the claim names none. */
  readonly storageClass: string;
  /** status.capacity.storage of a bound claim (what its volume holds), else spec.resources.requests.storage. */
  readonly bytes: number;
  /** Only Bound claims have a volume, so only they are priced. */
  readonly phase: string;
  readonly createdAtSeconds: number;
  /** Why the size could not be read exactly: the claim is left out of pricing, with this. */
  readonly quantityProblem?: string | undefined;
}

export interface StorageClassRecord {
  readonly name: string;
  readonly resourceVersion: string;
  readonly provisioner: string;
  readonly parameters: Readonly<Record<string, string>>;
}

interface RawClaim {
  metadata?: Meta;
  spec?: { storageClassName?: string; resources?: { requests?: Record<string, string> } };
  status?: { phase?: string; capacity?: Record<string, string> };
}

export function projectClaim(claim: RawClaim): ClaimRecord | undefined {
  const meta = claim.metadata;
  if (!meta?.name || !meta.namespace || !meta.uid) return undefined;
  const size = claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage;
  let bytes = 0;
  let quantityProblem: string | undefined;
  try {
    bytes = parseUnits(size) ?? 0;
  } catch (error) {
    if (!(error instanceof QuantityError)) throw error;
    quantityProblem = `storage: ${error.message}`;
  }
  const created = new Date(meta.creationTimestamp ?? '').getTime();
  return {
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    resourceVersion: meta.resourceVersion ?? '',
    storageClass: claim.spec?.storageClassName ?? '',
    bytes,
    phase: claim.status?.phase ?? 'Pending',
    createdAtSeconds: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
    quantityProblem,
  };
}

/** Parameters longer than this are no price input: a class's parameters are few and short. */
const MAX_PARAMETERS = 32;

export function projectStorageClass(sc: {
  metadata?: Meta;
  provisioner?: string;
  parameters?: Record<string, string>;
}): StorageClassRecord | undefined {
  const name = sc.metadata?.name;
  if (!name) return undefined;
  const parameters = Object.fromEntries(
    Object.entries(sc.parameters ?? {})
      .filter(([, v]) => typeof v === 'string')
      .slice(0, MAX_PARAMETERS),
  );
  return { name, resourceVersion: sc.metadata?.resourceVersion ?? '', provisioner: sc.provisioner ?? '', parameters };
}

export interface RawVolume {
  name?: string;
  persistentVolumeClaim?: { claimName?: string };
  ephemeral?: unknown;
}

/**
 * The claims a pod mounts, by name in its namespace: persistentVolumeClaim volumes, and generic ephemeral
 * volumes, whose claim Kubernetes names "<pod>-<volume>".
 */
export function claimNamesOf(podName: string, volumes: readonly RawVolume[] | undefined): string[] {
  const names = new Set<string>();
  for (const v of volumes ?? []) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (claim) names.add(claim);
    else if (v.ephemeral && v.name) names.add(`${podName}-${v.name}`);
  }
  return [...names].sort();
}
