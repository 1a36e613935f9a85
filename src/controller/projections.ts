/**
 * Compact projections of the API objects the operator watches: only the fields the cost engine, the
 * policies and the annotations need. At 20,000 pods a projection is a few hundred bytes, against tens
 * of kilobytes for a whole Pod object.
 */
import { parseMilli, parseUnits, QuantityError } from '../cost/quantity.ts';
import { isGpuResource } from '../cost/gpu-units.ts';
import type { WorkloadRef } from '../cost/types.ts';
import { parseLedger, type Ledger } from '../cost/ledger.ts';
import { claimNamesOf, type RawVolume } from './storage-projections.ts';

type Dict = Readonly<Record<string, string>>;

export interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string; uid?: string; controller?: boolean }[];
}

export interface NodeRecord {
  readonly name: string;
  readonly uid: string;
  /**
   * A GPU node's labels, all of them: a GPU pod's nodeSelector or node affinity may name any, and the webhook's
   * price before launch matches them. Other nodes keep the prefixes the pricing and spot rules read, and --account-nodes' keys.
   */
  readonly labels: Dict;
  readonly priceAnnotation: string | undefined;
  /**
   * Allocatable GPU resources (nvidia.com/gpu and MIG profiles) by name, in whole units; 0 for one whose
   * quantity is too large (see quantityProblem), so that the node still counts as a GPU node and is reported.
   */
  readonly gpuResources: Readonly<Record<string, number>>;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** Why a quantity could not be read exactly (it reads as 0): the node is left out of accounting, with this. */
  readonly quantityProblem?: string | undefined;
  readonly createdAtSeconds: number;
  /** The value too: whether a pod tolerates a taint depends on it (the webhook's price before launch). */
  readonly taints: readonly { readonly key: string; readonly value: string; readonly effect: string }[];
}

/** A pod's controller reference; uid is '' when the reference carries none (see resolveOwner in node-facts.ts). */
export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

export interface PodRecord {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly nodeName: string;
  readonly phase: string;
  readonly resourceVersion: string;
  /** Epoch seconds the pod started holding its node's resources (status.startTime). */
  readonly startedAtSeconds: number | undefined;
  /** Epoch seconds its containers all finished (Succeeded/Failed), if they did. */
  readonly endedAtSeconds: number | undefined;
  readonly deletingAtSeconds: number | undefined;
  readonly gpuRequests: Readonly<Record<string, number>>;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  /** Why a request could not be read exactly (it reads as 0): the pod is left out of accounting, with this. */
  readonly quantityProblem?: string | undefined;
  /** Only the label keys the operator reads: the roll-up keys and those policy selectors name (pod-label-keys.ts). */
  readonly labels: Dict;
  readonly owner: OwnerRef | undefined;
  readonly ledger: Ledger | undefined;
  /** aicost.dev/* and karpenter.sh/do-not-disrupt only. */
  readonly annotations: Dict;
  /** The PersistentVolumeClaims it mounts, by name in its namespace (storage-projections.ts); none when absent. */
  readonly claimNames?: readonly string[] | undefined;
}

export interface ReplicaSetRecord {
  /** The ReplicaSet's own uid, which its pods' references must name ('' if the object had none). */
  readonly uid: string;
  readonly deployment: string | undefined;
  /** The uid its Deployment reference names ('' without a reference or a uid on it). */
  readonly deploymentUid: string;
}

/** The cached projection of a Job, Deployment or StatefulSet. */
export interface WorkloadRecord extends WorkloadRef {
  readonly kind: 'Job' | 'Deployment' | 'StatefulSet';
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Dict;
  /** The operator's own annotations (aicost.dev/...) and karpenter.sh/do-not-disrupt, as last seen. */
  readonly annotations: Dict;
  /** Same subset, from the pod template. */
  readonly templateAnnotations: Dict;
  /** spec.replicas of Deployments and StatefulSets (1 when unset), spec.suspend of Jobs. */
  readonly replicas: number | undefined;
  readonly suspended: boolean;
  readonly generation: number;
  readonly ledger: Ledger | undefined;
  /** Jobs only: failed or succeeded once its Failed or Complete condition is True, else running. */
  readonly outcome?: JobOutcome | undefined;
  /** metadata.creationTimestamp: a budget's DenyNewGPUPods admits replacement pods of older workloads only. */
  readonly createdAtSeconds?: number | undefined;
  /** Jobs only: spec.activeDeadlineSeconds, which bounds what a pod of the Job can cost (price before launch). */
  readonly activeDeadlineSeconds?: number | undefined;
}

export type JobOutcome = 'running' | 'succeeded' | 'failed';

export interface NamespaceRecord {
  readonly name: string;
  readonly resourceVersion: string;
  readonly labels: Dict;
  readonly ledger: Ledger | undefined;
  /** aicost.dev/budget-override, which lets new GPU pods through a budget's DenyNewGPUPods (its value: why). */
  readonly budgetOverride?: string | undefined;
}

const NODE_LABEL_PREFIXES = [
  'node.kubernetes.io/',
  'beta.kubernetes.io/instance-type',
  'topology.kubernetes.io/',
  'nvidia.com/',
  'karpenter.sh/',
  'eks.amazonaws.com/',
  'cloud.google.com/',
  'kubernetes.azure.com/',
  'lifecycle',
];

function epochSeconds(time: string | Date | undefined | null): number | undefined {
  if (time === undefined || time === null) return undefined;
  const ms = new Date(time).getTime();
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

function pick(source: Record<string, string> | undefined, keep: (key: string) => boolean): Dict {
  const out: Record<string, string> = {};
  if (!source) return out;
  for (const [k, v] of Object.entries(source)) if (keep(k)) out[k] = v;
  return out;
}

export function ownAnnotations(annotations: Record<string, string> | undefined): Dict {
  return pick(annotations, (k) => k.startsWith('aicost.dev/') || k === 'karpenter.sh/do-not-disrupt');
}

interface RawNode {
  metadata?: Meta;
  spec?: { taints?: { key?: string; value?: string; effect?: string }[] };
  status?: { allocatable?: Record<string, string>; capacity?: Record<string, string> };
}

export function projectNode(node: RawNode, keptKeys: ReadonlySet<string> = new Set()): NodeRecord | undefined {
  const meta = node.metadata;
  if (!meta?.name) return undefined;
  const allocatable = node.status?.allocatable ?? node.status?.capacity ?? {};
  const problems: string[] = [];
  const gpuResources: Record<string, number> = {};
  for (const [name, quantity] of Object.entries(allocatable)) {
    if (isGpuResource(name)) {
      const units = readQuantity(parseUnits, quantity, `allocatable ${name}`, problems);
      if (units === null) gpuResources[name] = 0;
      else if (units !== undefined && units > 0) gpuResources[name] = units;
    }
  }
  const cpuMillis = readQuantity(parseMilli, allocatable.cpu, 'allocatable cpu', problems) ?? 0;
  const memoryBytes = readQuantity(parseUnits, allocatable.memory, 'allocatable memory', problems) ?? 0;
  const gpu = Object.keys(gpuResources).length > 0;
  return {
    name: meta.name,
    uid: meta.uid ?? '',
    labels: pick(meta.labels, (k) => gpu || keptKeys.has(k) || NODE_LABEL_PREFIXES.some((p) => k.startsWith(p))),
    priceAnnotation: meta.annotations?.['aicost.dev/price-per-hour'],
    gpuResources,
    cpuMillis,
    memoryBytes,
    quantityProblem: problems.length > 0 ? problems.join('; ') : undefined,
    createdAtSeconds: epochSeconds(meta.creationTimestamp) ?? 0,
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key ?? '', value: t.value ?? '', effect: t.effect ?? '' })),
  };
}

interface RawContainer {
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface RawPod {
  metadata?: Meta;
  spec?: {
    nodeName?: string;
    containers?: RawContainer[];
    initContainers?: RawContainer[];
    overhead?: Record<string, string>;
    volumes?: RawVolume[];
  };
  status?: {
    phase?: string;
    startTime?: string;
    containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[];
  };
}

/**
 * A quantity read exactly (see parseMilli): the value, undefined when the text is no quantity, or null when it
 * is one too large to hold exactly, with the problem added to `problems`.
 */
function readQuantity(
  read: (text: string | undefined) => number | undefined,
  text: string | undefined,
  what: string,
  problems: string[],
): number | undefined | null {
  try {
    return read(text);
  } catch (error) {
    if (!(error instanceof QuantityError)) throw error;
    problems.push(`${what}: ${error.message}`);
    return null;
  }
}

/**
 * Effective requests as the scheduler counts them: max(sum of containers, largest init container) + overhead;
 * CPU in milli-units, memory and GPUs in whole units (so that a 16 TiB request stays exact); nothing else.
 */
export function effectiveRequests(spec: NonNullable<RawPod['spec']>, problems: string[]): Record<string, number> {
  const sum: Record<string, number> = {};
  const add = (target: Record<string, number>, resources: Record<string, string> | undefined) => {
    for (const [name, q] of Object.entries(resources ?? {})) {
      if (name !== 'cpu' && name !== 'memory' && !isGpuResource(name)) continue; // nothing else is read
      const v = readQuantity(name === 'cpu' ? parseMilli : parseUnits, q, `request ${name}`, problems);
      if (typeof v === 'number') target[name] = (target[name] ?? 0) + v;
    }
  };
  const requestsOf = (c: RawContainer) => ({ ...pickNumeric(c.resources?.limits), ...c.resources?.requests });
  for (const c of spec.containers ?? []) {
    add(sum, requestsOf(c));
  }
  for (const c of spec.initContainers ?? []) {
    const one: Record<string, number> = {};
    add(one, requestsOf(c));
    for (const [name, v] of Object.entries(one)) if (v > (sum[name] ?? 0)) sum[name] = v;
  }
  add(sum, spec.overhead);
  for (const [name, v] of Object.entries(sum))
    if (!Number.isSafeInteger(v)) problems.push(`requests of ${name} add up beyond exact integers`);
  return sum;
}

// Extended resources (GPUs) may be given as limits only; the API server then defaults requests to them.
function pickNumeric(limits: Record<string, string> | undefined): Record<string, string> {
  return pick(limits, (k) => isGpuResource(k));
}

export function projectPod(pod: RawPod, labelKeys: { has(key: string): boolean }): PodRecord | undefined {
  const meta = pod.metadata;
  const spec = pod.spec;
  if (!meta?.name || !meta.namespace || !meta.uid || !spec?.nodeName) return undefined;
  const problems: string[] = [];
  const requests = effectiveRequests(spec, problems);
  const gpuRequests: Record<string, number> = {};
  for (const [name, units] of Object.entries(requests)) {
    if (isGpuResource(name) && units > 0) gpuRequests[name] = units;
  }
  const phase = pod.status?.phase ?? 'Pending';
  let endedAtSeconds: number | undefined;
  if (phase === 'Succeeded' || phase === 'Failed') {
    const finished = (pod.status?.containerStatuses ?? [])
      .map((s) => epochSeconds(s.state?.terminated?.finishedAt))
      .filter((t): t is number => t !== undefined);
    endedAtSeconds = finished.length > 0 ? Math.max(...finished) : epochSeconds(meta.deletionTimestamp);
  }
  const controller = meta.ownerReferences?.find((o) => o.controller) ?? meta.ownerReferences?.[0];
  return {
    uid: meta.uid,
    namespace: meta.namespace,
    name: meta.name,
    nodeName: spec.nodeName,
    phase,
    resourceVersion: meta.resourceVersion ?? '',
    startedAtSeconds: epochSeconds(pod.status?.startTime),
    endedAtSeconds,
    deletingAtSeconds: epochSeconds(meta.deletionTimestamp),
    gpuRequests,
    cpuMillis: requests.cpu ?? 0,
    memoryBytes: requests.memory ?? 0,
    quantityProblem: problems.length > 0 ? problems.join('; ') : undefined,
    labels: pick(meta.labels, (k) => labelKeys.has(k)),
    owner:
      controller?.kind && controller.name
        ? { kind: controller.kind, name: controller.name, uid: controller.uid ?? '' }
        : undefined,
    ledger: parseLedger(meta.annotations),
    annotations: ownAnnotations(meta.annotations),
    ...(spec.volumes?.length ? { claimNames: claimNamesOf(meta.name, spec.volumes) } : {}),
  };
}

export function projectReplicaSet(rs: { metadata?: Meta }): ReplicaSetRecord | undefined {
  const owner = rs.metadata?.ownerReferences?.find((o) => o.controller && o.kind === 'Deployment');
  return { uid: rs.metadata?.uid ?? '', deployment: owner?.name, deploymentUid: owner?.uid ?? '' };
}

interface RawWorkload {
  metadata?: Meta & { generation?: number };
  spec?: {
    replicas?: number;
    suspend?: boolean;
    activeDeadlineSeconds?: number;
    template?: { metadata?: { annotations?: Record<string, string> } };
  };
  status?: { conditions?: { type?: string; status?: string }[] };
}

function jobOutcome(object: RawWorkload): JobOutcome {
  const holds = (type: string) => object.status?.conditions?.some((c) => c.type === type && c.status === 'True');
  if (holds('Failed')) return 'failed';
  if (holds('Complete')) return 'succeeded';
  return 'running';
}

export function projectWorkload(kind: WorkloadRecord['kind']) {
  return (object: RawWorkload): WorkloadRecord | undefined => {
    const meta = object.metadata;
    if (!meta?.name || !meta.namespace) return undefined;
    return {
      kind,
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid ?? '',
      resourceVersion: meta.resourceVersion ?? '',
      labels: { ...meta.labels },
      annotations: ownAnnotations(meta.annotations),
      templateAnnotations: ownAnnotations(object.spec?.template?.metadata?.annotations),
      replicas: kind === 'Job' ? undefined : (object.spec?.replicas ?? 1),
      suspended: object.spec?.suspend === true,
      generation: meta.generation ?? 0,
      ledger: parseLedger(meta.annotations),
      ...(kind === 'Job'
        ? { outcome: jobOutcome(object), activeDeadlineSeconds: object.spec?.activeDeadlineSeconds }
        : {}),
      createdAtSeconds: epochSeconds(meta.creationTimestamp),
    };
  };
}

export function projectNamespace(ns: { metadata?: Meta }): NamespaceRecord | undefined {
  const meta = ns.metadata;
  if (!meta?.name) return undefined;
  return {
    name: meta.name,
    resourceVersion: meta.resourceVersion ?? '',
    labels: { ...meta.labels },
    ledger: parseLedger(meta.annotations),
    budgetOverride: meta.annotations?.['aicost.dev/budget-override']?.slice(0, 256),
  };
}
