/**
 * What a budget and the price before launch read of a pod being created, from the review's object. Its creator
 * wrote it and the webhook must answer whatever it holds (a type the API server would refuse later included),
 * so every field is checked for its type here and anything else reads as absent.
 */
import { isGpuResource } from '../cost/gpu-units.ts';
import { isAcceleratorResource } from './accelerators.ts';
import { parseUnits } from '../cost/quantity.ts';
import { effectiveRequests } from '../controller/projections.ts';

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions: readonly NodeSelectorRequirement[];
  readonly matchFields: readonly NodeSelectorRequirement[];
}

export interface Toleration {
  readonly key: string;
  readonly operator: string;
  readonly value: string;
  readonly effect: string;
}

export interface AdmittedPod {
  /**
   * Some container or init container requests or limits an accelerator (accelerators.ts: any GPU vendor's
   * resource, not only the ones accounting prices), a quantity other than zero, or the pod has a Dynamic
   * Resource Allocation claim: what a budget's DenyNewGPUPods refuses.
   */
  readonly gpu: boolean;
  /** Effective requests as the scheduler counts them (projections.ts): GPU resources by name, whole units. */
  readonly gpuRequests: Readonly<Record<string, number>>;
  readonly cpuMillis: number;
  readonly memoryBytes: number;
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** The required node affinity's terms (ORed); undefined when the pod has none. */
  readonly requiredTerms: readonly NodeSelectorTerm[] | undefined;
  readonly tolerations: readonly Toleration[];
  /** spec.activeDeadlineSeconds, when a positive whole number. */
  readonly activeDeadlineSeconds: number | undefined;
  /**
   * Its node selection is over SELECTION_LIMITS: matched against a thousand nodes it would hold the webhook,
   * which serves every team's pods on one thread, for hundreds of milliseconds, so it is not priced.
   */
  readonly tooComplex: boolean;
}

/**
 * Far beyond what a real pod spells out, far below what costs time: the pod's creator writes these lists, and
 * the API server lets them through to a mutating webhook before it validates anything.
 */
export const SELECTION_LIMITS = { nodeSelector: 64, terms: 16, requirements: 32, values: 64, tolerations: 64 };

function tooComplex(pod: Pick<AdmittedPod, 'nodeSelector' | 'requiredTerms' | 'tolerations'>): boolean {
  const L = SELECTION_LIMITS;
  const terms = pod.requiredTerms ?? [];
  return (
    Object.keys(pod.nodeSelector).length > L.nodeSelector ||
    pod.tolerations.length > L.tolerations ||
    terms.length > L.terms ||
    terms.some(
      (t) =>
        t.matchExpressions.length + t.matchFields.length > L.requirements ||
        [...t.matchExpressions, ...t.matchFields].some((r) => r.values.length > L.values),
    )
  );
}

type Json = Readonly<Record<string, unknown>>;

const objectOr = (value: unknown): Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
const arrayOf = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The string-valued members of an object; a quantity may come as a JSON number. */
function strings(value: unknown, numbers = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(objectOr(value))) {
    if (typeof v === 'string') out[k] = v;
    else if (numbers && typeof v === 'number' && Number.isFinite(v)) out[k] = String(v);
  }
  return out;
}

interface Resources {
  requests: Record<string, string>;
  limits: Record<string, string>;
}

function containers(spec: Json, field: 'containers' | 'initContainers'): { resources: Resources }[] {
  return arrayOf(spec[field]).map((c) => {
    const resources = objectOr(objectOr(c).resources);
    return { resources: { requests: strings(resources.requests, true), limits: strings(resources.limits, true) } };
  });
}

/** Not zero: a quantity too large to read exactly, or one that does not parse, still asks for the resource. */
function nonZero(quantity: string): boolean {
  try {
    return parseUnits(quantity) !== 0;
  } catch {
    return true;
  }
}

function requirements(value: unknown): NodeSelectorRequirement[] {
  return arrayOf(value).map((r) => {
    const o = objectOr(r);
    return { key: text(o.key), operator: text(o.operator), values: arrayOf(o.values).map(text) };
  });
}

function requiredTermsOf(spec: Json): NodeSelectorTerm[] | undefined {
  const required = objectOr(
    objectOr(objectOr(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution,
  );
  if (!('nodeSelectorTerms' in required)) return undefined;
  return arrayOf(required.nodeSelectorTerms).map((t) => {
    const o = objectOr(t);
    return { matchExpressions: requirements(o.matchExpressions), matchFields: requirements(o.matchFields) };
  });
}

export function readAdmittedPod(object: unknown): AdmittedPod {
  const spec = objectOr(objectOr(object).spec);
  const main = containers(spec, 'containers');
  const init = containers(spec, 'initContainers');
  const gpu =
    arrayOf(spec.resourceClaims).length > 0 ||
    [...main, ...init].some(({ resources }) =>
      [resources.requests, resources.limits].some((r) =>
        Object.entries(r).some(([name, q]) => isAcceleratorResource(name) && nonZero(q)),
      ),
    );
  // A quantity too large to read is left out of the sums (with a problem, not needed here): such a pod fits
  // no node, which is what the price before launch then says.
  const requests = effectiveRequests(
    { containers: main, initContainers: init, overhead: strings(spec.overhead, true) },
    [],
  );
  const gpuRequests: Record<string, number> = {};
  for (const [name, units] of Object.entries(requests)) if (isGpuResource(name) && units > 0) gpuRequests[name] = units;
  const deadline = spec.activeDeadlineSeconds;
  const selection = {
    nodeSelector: strings(spec.nodeSelector),
    requiredTerms: requiredTermsOf(spec),
    tolerations: arrayOf(spec.tolerations).map((t) => {
      const o = objectOr(t);
      return { key: text(o.key), operator: text(o.operator), value: text(o.value), effect: text(o.effect) };
    }),
  };
  return {
    gpu,
    gpuRequests,
    cpuMillis: requests.cpu ?? 0,
    memoryBytes: requests.memory ?? 0,
    ...selection,
    activeDeadlineSeconds:
      typeof deadline === 'number' && Number.isSafeInteger(deadline) && deadline > 0 ? deadline : undefined,
    tooComplex: tooComplex(selection),
  };
}
