/**
 * The admission webhook's handler: reads an AdmissionReview for a Pod CREATE, asks the budgets in the pod's
 * scope first (budget-admission.ts: an exceeded budget may refuse a new GPU pod), then finds the policy whose
 * spot rule governs the pod (the same precedence as every other rule) and answers with the decision of
 * policy/spot.ts, with the budgets' warnings after the spot rule's. Every replica answers (not only the leader): a review reads the caches and writes nothing
 * but an Event. An internal error refuses the pod (code 500, as controller-runtime's admission.Errored does),
 * whatever the failurePolicy: admitting it unchanged would skip a Required or Forbidden spot rule, and the
 * pod's controller creates it again.
 */
import { readAdmittedPod } from '../budget/admitted-pod.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import { errorSummary } from '../controller/errors.ts';
import { assignRules, modeOf, type PolicyRef, type WorkloadView } from '../policy/match.ts';
import {
  decideSpotAdmission,
  stripOperatorKeys,
  type JsonPatchOp,
  observedConventions,
  SPOT_ANNOTATION,
  SPOT_CONVENTIONS,
  type PodForAdmission,
  type SpotConvention,
} from '../policy/spot.ts';
import { SPOT_DENIED } from '../policy/spot-denials.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { admissionOwner, eventSubject, type AdmissionOwner } from './admission-owner.ts';
import { BudgetAdmission, type BudgetAdmissionDeps } from './budget-admission.ts';
import { LaunchPriceWarning } from './launch-price-warning.ts';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  dryRun?: boolean;
  /** Who asks: the API server's account of the authenticated requester. */
  userInfo?: { username?: string };
  object?: PodForAdmission & {
    metadata?: {
      labels?: Record<string, string>;
      ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean }[];
    };
  };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; reason: string; message: string };
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** The budget gate's dependencies, and what the spot rules and the price before launch read besides. */
export interface SpotAdmissionDeps extends BudgetAdmissionDeps {
  /** What a review reads: no pods, so the webhook-only role keeps none (createAdmissionCache). */
  readonly cache: Pick<ClusterCache, 'nodes' | 'namespaces' | 'replicaSets' | 'jobs' | 'deployments' | 'statefulSets'>;
  readonly conventions: 'all' | 'observed';
  /** Prices the nodes a GPU pod can land on, for its price before launch. */
  readonly pricing: PricingSource;
}

export class SpotAdmission {
  private readonly deps: SpotAdmissionDeps;
  /** The conventions seen on the nodes, computed on the first review after a node changed. */
  private observed: readonly SpotConvention[] | undefined;
  private readonly budgets: BudgetAdmission;
  private readonly prices: LaunchPriceWarning;

  constructor(deps: SpotAdmissionDeps) {
    this.deps = deps;
    this.budgets = new BudgetAdmission(deps);
    this.prices = new LaunchPriceWarning({ ...deps, nodes: deps.cache.nodes });
    deps.cache.nodes.onChange(() => (this.observed = undefined));
  }

  /** Answers one AdmissionReview body; never throws (an internal error is an answer that refuses the pod). */
  review(body: unknown): AdmissionReview {
    const request = (body as { request?: AdmissionRequest } | undefined)?.request;
    const uid = typeof request?.uid === 'string' ? request.uid : '';
    const answer = (response: Omit<AdmissionResponse, 'uid'>): AdmissionReview => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid, ...response },
    });
    if (!request || request.kind?.kind !== 'Pod' || request.operation !== 'CREATE' || !request.object) {
      return answer({ allowed: true });
    }
    try {
      return answer(this.decide(request));
    } catch (error) {
      const err = errorSummary(error);
      this.deps.log.error({ err, namespace: request.namespace }, 'admission review failed: the pod is refused');
      this.deps.metrics.webhookAdmissions.inc({ policy: '', action: 'None', mode: '', verdict: 'error' });
      const message = `the aicost spot admission webhook failed (${err}); the pod was refused rather than admitted unchecked: create it again`;
      return answer({ allowed: false, status: { code: 500, reason: 'InternalError', message } });
    }
  }

  private decide(request: AdmissionRequest): Omit<AdmissionResponse, 'uid'> {
    const { cache } = this.deps;
    const pod = request.object ?? {};
    const namespace = request.namespace ?? '';
    const owner = admissionOwner(namespace, pod.metadata?.ownerReferences, cache);
    const view = {
      kind: owner?.kind ?? 'Pod',
      namespace,
      name: owner?.name ?? pod.metadata?.name ?? pod.metadata?.generateName ?? '',
      // The pod's labels over its workload's: a selector written for either matches.
      labels: { ...owner?.labels, ...pod.metadata?.labels },
      annotations: pod.metadata?.annotations ?? {},
      namespaceLabels: cache.namespaces.store.get(namespace)?.labels ?? {},
    };
    const podName = pod.metadata?.name ?? pod.metadata?.generateName ?? '';
    const admitted = readAdmittedPod(pod);
    const budget = this.budgets.review({
      pod: admitted,
      owner,
      view,
      podName,
      dryRun: request.dryRun === true,
      requester: typeof request.userInfo?.username === 'string' ? request.userInfo.username : '',
    });
    // A budget's refusal wins: the pod is not created, so no spot rule places it.
    if (budget.refusal !== undefined)
      return { allowed: false, status: { code: 403, reason: 'Forbidden', message: budget.refusal } };
    const spot = this.spot(request, pod, owner, view);
    // A pod the spot rule refuses is not created: it has no price to know.
    const price = spot.allowed ? this.prices.warning(admitted, owner, view) : undefined;
    const warnings = [
      ...(spot.warnings ?? []),
      ...(price === undefined ? [] : [price]),
      ...budget.verdicts.flatMap((v) => (v.warning ? [v.warning] : [])),
    ];
    return warnings.length > 0 ? { ...spot, warnings } : spot;
  }

  /** The spot rule's answer for the pod: the policy/spot.ts decision of the policy whose spot rule governs it. */
  private spot(
    request: AdmissionRequest,
    pod: NonNullable<AdmissionRequest['object']>,
    owner: AdmissionOwner | undefined,
    view: WorkloadView & { kind: string; name: string },
  ): Omit<AdmissionResponse, 'uid'> {
    const namespace = view.namespace;
    const refs: PolicyRef[] = [];
    for (const p of this.deps.policies.store.values()) if (p.spec) refs.push({ name: p.name, spec: p.spec });
    const winner = assignRules(refs, view, this.deps.protectedNamespaces).winners.spot;
    const rule = winner?.spec.rules.spot;
    const strip = stripOperatorKeys(pod);
    if (!winner || !rule) {
      this.deps.metrics.webhookAdmissions.inc({ policy: '', action: 'None', mode: '', verdict: 'allow' });
      return strip.length > 0 ? { allowed: true, ...jsonPatch(strip) } : { allowed: true };
    }
    const mode = modeOf(winner.spec, 'spot', this.deps.defaultMode);
    const decision = decideSpotAdmission({ pod, policy: winner.name, rule, mode, conventions: this.conventions() });
    this.deps.metrics.webhookAdmissions.inc({
      policy: winner.name,
      action: decision.action ?? 'None',
      mode,
      verdict: decision.verdict,
    });
    // A dry run must have no side effect (sideEffects: NoneOnDryRun): no Event then.
    if (decision.event && !request.dryRun) {
      const ref = eventSubject(owner, namespace, { apiVersion: 'v1', kind: 'Pod', namespace, name: view.name });
      const { type, reason, message } = decision.event;
      // A denied pod never exists: the Event is the leader's only trace of the denial, to count in the
      // policy's status (policy-controller.ts), so it names the policy where no message parsing is needed.
      const annotations = reason === SPOT_DENIED ? { [SPOT_ANNOTATION.policy]: winner.name } : undefined;
      void this.deps.events.record(ref, type, reason, message, annotations);
    }
    this.deps.log.info(
      {
        kind: view.kind,
        namespace,
        name: view.name,
        policy: winner.name,
        mode,
        action: decision.action,
        verdict: decision.verdict,
      },
      'spot admission',
    );
    switch (decision.verdict) {
      case 'deny':
        return { allowed: false, status: { code: 403, reason: 'Forbidden', message: decision.message } };
      case 'patch':
        return {
          allowed: true,
          ...jsonPatch(decision.patch),
          ...(decision.warnings.length > 0 ? { warnings: [...decision.warnings] } : {}),
        };
      default:
        return {
          allowed: true,
          ...(strip.length > 0 ? jsonPatch(strip) : {}),
          ...(decision.warnings.length > 0 ? { warnings: [...decision.warnings] } : {}),
        };
    }
  }

  private conventions(): readonly SpotConvention[] {
    if (this.deps.conventions === 'all') return SPOT_CONVENTIONS;
    // Scanning a thousand nodes' labels per review would put the fleet on the webhook's path; nodes change
    // far less often than pods are created.
    this.observed ??= observedConventions(
      (function* (nodes: Iterable<{ labels: Readonly<Record<string, string>> }>) {
        for (const n of nodes) yield n.labels;
      })(this.deps.cache.nodes.store.values()),
    );
    return this.observed;
  }
}

function jsonPatch(ops: readonly JsonPatchOp[]): { patchType: 'JSONPatch'; patch: string } {
  return { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
}
