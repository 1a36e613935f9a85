/**
 * The admission webhook's budget gate: runs decideBudgetAdmission (budget/admission.ts) on a Pod CREATE and
 * carries out what it says: the aicost_budget_admissions_total counts, the Events (none on a dry run: the
 * webhook declares sideEffects NoneOnDryRun), a log line per verdict. SpotAdmission asks it first: a refusal
 * wins over the spot rules, and its warnings join theirs.
 */
import type { Logger } from 'pino';
import {
  BUDGET_POLICY_ANNOTATION,
  decideBudgetAdmission,
  isWorkloadController,
  type BudgetAdmissionDecision,
} from '../budget/admission.ts';
import type { AdmittedPod } from '../budget/admitted-pod.ts';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { Reflector } from '../controller/reflector.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { Mode, WorkloadView } from '../policy/match.ts';
import { eventSubject, podOwner, type AdmissionOwner } from './admission-owner.ts';

export interface BudgetAdmissionDeps {
  readonly cache: Pick<ClusterCache, 'namespaces'>;
  readonly policies: Reflector<PolicyRecord>;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly protectedNamespaces: ReadonlySet<string>;
  readonly defaultMode: Mode;
}

export interface BudgetReview {
  readonly pod: AdmittedPod;
  readonly owner: AdmissionOwner | undefined;
  readonly view: WorkloadView;
  /** The pod's name, else its generateName. */
  readonly podName: string;
  readonly dryRun: boolean;
  /** request.userInfo.username: a replacement is created by the workload's controller. */
  readonly requester: string;
}

export class BudgetAdmission {
  private readonly deps: BudgetAdmissionDeps;

  constructor(deps: BudgetAdmissionDeps) {
    this.deps = deps;
  }

  review(r: BudgetReview): BudgetAdmissionDecision {
    const { cache, policies, metrics, clock } = this.deps;
    const namespace = r.view.namespace;
    const override = cache.namespaces.store.get(namespace)?.budgetOverride?.trim();
    const decision = decideBudgetAdmission({
      policies: policies.store.values(),
      view: r.view,
      protectedNamespaces: this.deps.protectedNamespaces,
      defaultMode: this.deps.defaultMode,
      nowMs: clock.now(),
      gpu: r.pod.gpu,
      owner: podOwner(r.owner),
      byController: isWorkloadController(r.requester),
      podName: r.podName,
      override: override || undefined,
    });
    // A pod without an owner has no name yet: its Event goes to the namespace, where the team reads them.
    const subject = eventSubject(r.owner, namespace, {
      apiVersion: 'v1',
      kind: 'Namespace',
      namespace,
      name: namespace,
    });
    for (const v of decision.verdicts) {
      metrics.budgetAdmissions.inc({ policy: v.policy, verdict: v.verdict });
      // Replacements are the everyday case of an exceeded budget (every rollout, every restart): not logged as news.
      const line = { namespace, owner: r.owner?.name, kind: r.owner?.kind, policy: v.policy, verdict: v.verdict };
      if (v.verdict === 'replacement') this.deps.log.debug(line, 'budget admission');
      else this.deps.log.info(line, 'budget admission');
      // The message does not carry the spend, so the recorder counts each repeat on one Event per workload.
      if (v.event && !r.dryRun) {
        const { type, reason, message } = v.event;
        void this.deps.events.record(subject, type, reason, message, { [BUDGET_POLICY_ANNOTATION]: v.policy });
      }
    }
    return decision;
  }
}
