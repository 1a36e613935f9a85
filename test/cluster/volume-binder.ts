/**
 * The local cluster's volume binder (issue #18): makes the default StorageClass `local-binder`, then every second
 * creates a pre-bound PersistentVolume for each pending claim of that class (the controller-manager binds them) and
 * deletes the volumes of deleted claims. A stand-in for a CSI provisioner, which a cluster of kwok nodes lacks.
 *
 * Usage: node test/cluster/volume-binder.ts [--kubeconfig PATH]
 */
import { parseArgs } from 'node:util';
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { DEFAULT_STORAGE_CLASS, released, volumeFor } from './volume-binder-model.ts';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' } } });
const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const objects = KubernetesObjectApi.makeApiClient(kc);
const log = (message: string) => process.stderr.write(`[volume-binder ${new Date().toISOString()}] ${message}\n`);
const conflict = (error: unknown) => error instanceof ApiException && error.code === 409;

async function ensureClass(): Promise<void> {
  try {
    await objects.create(DEFAULT_STORAGE_CLASS);
    log(`created the default StorageClass ${DEFAULT_STORAGE_CLASS.metadata.name}`);
  } catch (error) {
    if (!conflict(error)) throw error;
  }
}

async function pass(): Promise<void> {
  const claims = await core.listPersistentVolumeClaimForAllNamespaces();
  for (const claim of claims.items) {
    const volume = volumeFor(claim);
    if (!volume) continue;
    try {
      await objects.create(volume);
      log(`created ${volume.metadata.name} for ${claim.metadata?.namespace}/${claim.metadata?.name}`);
    } catch (error) {
      if (!conflict(error)) throw error;
    }
  }
  const volumes = await core.listPersistentVolume();
  for (const v of volumes.items.filter(released)) {
    await core.deletePersistentVolume({ name: v.metadata?.name ?? '' }).catch(() => undefined);
    log(`deleted ${v.metadata?.name}, whose claim is gone`);
  }
}

const state = { stopping: false };
process.on('SIGTERM', () => (state.stopping = true));
process.on('SIGINT', () => (state.stopping = true));
// The API server may not answer yet, or go away for a while: every step is retried, never fatal.
while (!state.stopping) {
  try {
    await ensureClass();
    await pass();
  } catch (error) {
    log(`pass failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
