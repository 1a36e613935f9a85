/**
 * Creates (or updates) the nodes of a profile as kwok fake nodes, with capacity set through the status
 * subresource: an update of the Node itself ignores status, and kwok keeps whatever capacity it finds.
 *
 * Usage: node test/cluster/apply-profile.ts [--profile PATH | PATH] [--kubeconfig PATH] [--prune]
 *   profile: --profile, the first argument, $AICOST_CLUSTER_PROFILE, else profiles/default.yaml
 *   --prune: also delete fake nodes labelled by an earlier run that the profile no longer lists
 * Works against any cluster where kwok manages nodes annotated kwok.x-k8s.io/node=fake.
 */
import { parseArgs } from 'node:util';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { DEFAULT_PROFILE, loadProfile, nodeObject } from './profile.ts';

const MANAGED_LABEL = 'aicost.dev/local-cluster-node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' }, kubeconfig: { type: 'string' }, prune: { type: 'boolean', default: false } },
});
const path = values.profile ?? positionals[0] ?? process.env.AICOST_CLUSTER_PROFILE ?? DEFAULT_PROFILE;

const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const objects = KubernetesObjectApi.makeApiClient(kc);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const isStatus = (error: unknown, code: number) => error instanceof ApiException && error.code === code;

async function apply(): Promise<void> {
  const nodes = loadProfile(path).map(nodeObject);
  for (const node of nodes) node.metadata.labels[MANAGED_LABEL] = 'true';
  await Promise.all(
    nodes.map(async (node) => {
      const name = node.metadata.name;
      try {
        try {
          await objects.create(node);
        } catch (error) {
          if (!isStatus(error, 409)) throw error;
          // Already there (a re-run, or a changed profile): bring labels, annotations and taints up to date.
          await core.patchNode({ name, body: { metadata: node.metadata, spec: node.spec } }, merge);
        }
        await core.patchNodeStatus(
          { name, body: { status: { capacity: node.status.capacity, allocatable: node.status.allocatable } } },
          merge,
        );
      } catch (error) {
        throw new Error(`cannot apply node ${name} from ${path}`, { cause: error });
      }
    }),
  );
  if (values.prune) {
    const wanted = new Set(nodes.map((n) => n.metadata.name));
    const existing = await core.listNode({ labelSelector: `${MANAGED_LABEL}=true` });
    for (const n of existing.items) {
      const name = n.metadata?.name;
      if (name && !wanted.has(name)) {
        await core.deleteNode({ name });
        console.error(`deleted node ${name}, which ${path} no longer lists`);
      }
    }
  }
  console.error(`applied ${nodes.length} nodes from ${path}`);
}

apply().catch((error: unknown) => {
  // The API's answer is in the cause; print the chain so that a bad profile or a refused node is plain.
  let e: unknown = error;
  const lines: string[] = [];
  while (e instanceof Error) {
    lines.push(e instanceof ApiException ? `HTTP ${e.code}: ${String(e.body)}` : e.message);
    e = e.cause;
  }
  console.error(`apply-profile: ${lines.join('\n  caused by: ')}`);
  process.exitCode = 1;
});
