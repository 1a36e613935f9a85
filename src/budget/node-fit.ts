/**
 * Which nodes a pod can land on, as the scheduler's filters decide it for the parts that do not depend on what
 * else runs there: the node's labels satisfy the pod's nodeSelector and its required node affinity (terms
 * ORed, the requirements of a term ANDed; an empty term matches nothing), the pod tolerates every NoSchedule
 * and NoExecute taint, and the node's allocatable holds the pod's requests (each GPU resource, CPU, memory).
 * What is free on the node now, pod affinity, topology spread and preferences are not read: the price before
 * launch names where the pod can go, not where it will.
 */
import type { AdmittedPod, NodeSelectorRequirement, NodeSelectorTerm, Toleration } from './admitted-pod.ts';

export interface FitNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { readonly key: string; readonly value: string; readonly effect: string }[];
  readonly gpuResources: Readonly<Record<string, number>>;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
}

export function fitsNode(pod: AdmittedPod, node: FitNode): boolean {
  for (const [name, count] of Object.entries(pod.gpuRequests)) if ((node.gpuResources[name] ?? 0) < count) return false;
  if (pod.cpuMillis > node.cpuMillis || pod.memoryBytes > node.memoryBytes) return false;
  for (const [key, value] of Object.entries(pod.nodeSelector)) if (node.labels[key] !== value) return false;
  if (pod.requiredTerms && !pod.requiredTerms.some((t) => termMatches(t, node))) return false;
  return node.taints.every(
    (taint) =>
      (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') ||
      pod.tolerations.some((t) => tolerates(t, taint)),
  );
}

function termMatches(term: NodeSelectorTerm, node: FitNode): boolean {
  if (term.matchExpressions.length === 0 && term.matchFields.length === 0) return false;
  // The scheduler supports one field, metadata.name.
  return (
    term.matchExpressions.every((r) => requirementMatches(r, node.labels[r.key])) &&
    term.matchFields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.name))
  );
}

/** A node selector requirement: the label selector's four operators, and Gt and Lt on an integer value. */
export function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && r.values.includes(value);
    case 'NotIn':
      return value === undefined || !r.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const bound = integer(r.values[0]);
      const actual = integer(value);
      if (bound === undefined || actual === undefined || r.values.length !== 1) return false;
      return r.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^-?\d{1,15}$/.test(text) ? Number(text) : undefined;
}

/** Kubernetes' toleration rule: the effect (or any when empty), the key (any with Exists and no key), the value. */
export function tolerates(t: Toleration, taint: FitNode['taints'][number]): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false;
  const operator = t.operator === '' ? 'Equal' : t.operator;
  if (t.key === '') return operator === 'Exists';
  if (t.key !== taint.key) return false;
  if (operator === 'Exists') return true;
  return operator === 'Equal' && t.value === taint.value;
}
