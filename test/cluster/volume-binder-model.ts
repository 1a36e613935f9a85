/**
 * What the local cluster's volume binder does (volume-binder.ts), as plain functions: the default StorageClass,
 * and the PersistentVolume it makes for a pending claim of that class. Nothing is mounted (kwok plays the
 * kubelet); the volume exists so that the controller-manager binds the claim and the scheduler places its pods.
 */

type Dict = Record<string, string>;
interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Dict;
  annotations?: Dict;
}
/** The fields read of a claim (client-node's V1PersistentVolumeClaim has them). */
export interface ClaimLike {
  metadata?: Meta;
  spec?: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    resources?: { requests?: Dict };
  };
  status?: { phase?: string };
}
export interface VolumeLike {
  apiVersion: string;
  kind: string;
  metadata: Meta & { name: string };
  spec?: {
    capacity?: Dict;
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: string;
    storageClassName?: string;
    claimRef?: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string };
    hostPath?: { path: string; type?: string };
  };
  status?: { phase?: string };
}

export const LOCAL_CLASS = 'local-binder';
export const LOCAL_PROVISIONER = 'aicost.dev/local-binder';

export const DEFAULT_STORAGE_CLASS: {
  apiVersion: string;
  kind: string;
  metadata: Meta & { name: string };
  provisioner: string;
  volumeBindingMode: string;
  reclaimPolicy: string;
} = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: {
    name: LOCAL_CLASS,
    annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    labels: { 'aicost.dev/local-cluster': 'true' },
  },
  provisioner: LOCAL_PROVISIONER,
  // Bound at once: the binder needs no node, and a pod's scheduling then waits only for the bind.
  volumeBindingMode: 'Immediate',
  reclaimPolicy: 'Delete',
};

/** The volume for a pending claim of the local class, pre-bound to it; undefined for any other claim. */
export function volumeFor(claim: ClaimLike): VolumeLike | undefined {
  const meta = claim.metadata;
  const size = claim.spec?.resources?.requests?.storage;
  if (!meta?.name || !meta.namespace || !meta.uid || !size) return undefined;
  if ((claim.spec?.storageClassName ?? '') !== LOCAL_CLASS || claim.spec?.volumeName) return undefined;
  if ((claim.status?.phase ?? 'Pending') !== 'Pending') return undefined;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: volumeName(meta.uid),
      labels: { 'aicost.dev/local-cluster': 'true' },
      annotations: { 'pv.kubernetes.io/provisioned-by': LOCAL_PROVISIONER },
    },
    spec: {
      capacity: { storage: size },
      accessModes: claim.spec?.accessModes?.length ? claim.spec.accessModes : ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: LOCAL_CLASS,
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
      },
      hostPath: { path: `/tmp/aicost-local-volumes/${meta.uid}`, type: 'DirectoryOrCreate' },
    },
  };
}

/** One volume per claim, named after its uid: a retry finds the volume it made. */
export function volumeName(claimUid: string): string {
  return `local-${claimUid}`;
}

/** Volumes of the binder whose claim is gone (Released after its claim was deleted): to be deleted. */
export function released(volume: {
  metadata?: { annotations?: Dict | undefined } | undefined;
  status?: { phase?: string | undefined } | undefined;
}): boolean {
  return (
    volume.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'] === LOCAL_PROVISIONER &&
    volume.status?.phase === 'Released'
  );
}
