/**
 * Carries out the policy plan's effects against the API, one workload's units in order, and nothing else:
 * every decision was made in policy/plan.ts. A unit whose effect fails stops its workload's pass there; the
 * caller keeps memory and status as they were for it, so the next pass plans it again.
 */
import type { Logger } from 'pino';
import { apiVersionOf, objectPath } from '../controller/api-paths.ts';
import { errorSummary, isNotFound, KubeApiError } from '../controller/errors.ts';
import type { EventRecorder, ObjectRef } from '../controller/events.ts';
import type { KubeClient } from '../controller/kube-client.ts';
import type { Metrics } from '../controller/metrics.ts';
import { formatMoney } from '../cost/money.ts';
import type { PolicyStatus } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { BudgetEvent } from '../budget/plan-budget.ts';
import type { Effect, PlanWorkload, Unit } from '../policy/plan-types.ts';
import { POLICY_ANNOTATION } from '../policy/plan-words.ts';
import type { DenialRecord } from '../policy/spot-denials.ts';
import { DENIALS_COUNTED } from '../policy/spot-denials.ts';

const KEDA_PAUSED = 'autoscaling.keda.sh/paused-replicas';

export interface ExecutorDeps {
  readonly client: KubeClient;
  readonly events: EventRecorder;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
  readonly currency: () => string;
}

export class PolicyExecutor {
  private readonly deps: ExecutorDeps;

  constructor(deps: ExecutorDeps) {
    this.deps = deps;
  }

  /** Runs the units in order; returns those carried out (a prefix: it stops at the first failure). */
  async runUnits(w: PlanWorkload, units: readonly Unit[]): Promise<readonly Unit[]> {
    const done: Unit[] = [];
    for (const u of units) {
      try {
        for (const effect of u.effects) await this.apply(w, effect);
      } catch (error) {
        this.deps.log.warn(
          { err: errorSummary(error), workload: `${w.kind}/${w.namespace}/${w.name}` },
          'policy action failed; retrying next cycle',
        );
        break;
      }
      done.push(u);
    }
    return done;
  }

  private async apply(w: PlanWorkload, effect: Effect): Promise<void> {
    const { client } = this.deps;
    switch (effect.kind) {
      case 'annotate':
        return this.annotate(w, effect.annotations);
      case 'event':
        return this.deps.events.record(objectRef(w), effect.type, effect.reason, effect.message);
      case 'scale-to-zero': {
        const scaledObject = await this.scaledObjectFor(w);
        if (!scaledObject)
          return client.patch(`${objectPath(w.kind, w.namespace, w.name)}/scale`, { spec: { replicas: 0 } }, 'merge');
        // KEDA owns the replica count: pause it at zero the KEDA way rather than fight it.
        await this.annotate(w, { [POLICY_ANNOTATION.pausedVia]: 'keda' });
        return client.patch(scaledObject, { metadata: { annotations: { [KEDA_PAUSED]: '0' } } }, 'merge');
      }
      case 'restore': {
        const scaledObject = await this.scaledObjectFor(w);
        if (scaledObject)
          await client.patch(scaledObject, { metadata: { annotations: { [KEDA_PAUSED]: null } } }, 'merge');
        const scale = `${objectPath(w.kind, w.namespace, w.name)}/scale`;
        return client.patch(scale, { spec: { replicas: effect.replicas } }, 'merge');
      }
      case 'suspend-job': {
        const body = { metadata: { annotations: effect.annotations }, spec: { suspend: true } };
        return client.patch(objectPath('Job', w.namespace, w.name), body, 'merge');
      }
      case 'evict':
        await client.create(`${objectPath('Pod', w.namespace, w.name)}/eviction`, {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: w.name, namespace: w.namespace },
        });
        return;
      case 'count-at-risk': {
        const labels = {
          namespace: w.namespace,
          workload_kind: w.kind,
          workload: w.name,
          currency: this.deps.currency(),
        };
        this.deps.metrics?.spotAtRisk.inc(labels, Number(formatMoney(effect.cost, 9)));
        return;
      }
    }
  }

  /**
   * Marks a SpotDenied Event's denials counted; false when it could not (gone, changed, or failed: counted
   * again next pass). The uid precondition: an expired Event's name is never another one's count.
   */
  async markDenialsCounted(d: DenialRecord): Promise<boolean> {
    try {
      const body = { metadata: { uid: d.uid, annotations: { [DENIALS_COUNTED]: d.marker } } };
      await this.deps.client.patch(objectPath('Event', d.namespace, d.name), body, 'merge');
      return true;
    } catch (error) {
      if (!isNotFound(error) && !(error instanceof KubeApiError && error.code === 409))
        this.deps.log.warn(
          { err: errorSummary(error), event: `${d.namespace}/${d.name}` },
          'could not count spot denials',
        );
      return false;
    }
  }

  /**
   * Writes the policy's status; false when it could not (logged, except for a policy deleted meanwhile). A
   * merge patch keeps the fields it does not name, so those the status had and no longer has (a budget
   * removed from the policy) are named with null, which removes them.
   */
  async writeStatus(policy: PolicyRecord, status: PolicyStatus): Promise<boolean> {
    const gone = Object.keys(policy.status ?? {}).filter((k) => !(k in status));
    const body = { status: { ...Object.fromEntries(gone.map((k) => [k, null])), ...status } };
    try {
      await this.deps.client.patch(`${objectPath('AICostPolicy', undefined, policy.name)}/status`, body, 'merge');
      return true;
    } catch (error) {
      if (!(error instanceof KubeApiError && error.code === 404))
        this.deps.log.warn({ err: errorSummary(error), policy: policy.name }, 'could not write policy status');
      return false;
    }
  }

  /**
   * A budget threshold's Warning Event on the policy and on each namespace concerned (in the namespace itself,
   * where its owners read Events: involvedObject.namespace names it, as the API server's validation asks).
   */
  async recordBudgetEvent(policy: PolicyRecord, namespaces: readonly string[], event: BudgetEvent): Promise<void> {
    const { events } = this.deps;
    const ref = {
      apiVersion: 'aicost.dev/v1alpha1',
      kind: 'AICostPolicy',
      namespace: '',
      name: policy.name,
      uid: policy.uid,
    };
    await events.record(ref, 'Warning', event.reason, event.message);
    for (const ns of namespaces)
      await events.record(
        { apiVersion: 'v1', kind: 'Namespace', namespace: ns, name: ns },
        'Warning',
        event.reason,
        event.message,
      );
  }

  private async annotate(w: PlanWorkload, annotations: Readonly<Record<string, string | null>>): Promise<void> {
    try {
      await this.deps.client.patch(objectPath(w.kind, w.namespace, w.name), { metadata: { annotations } }, 'merge');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async scaledObjectFor(w: PlanWorkload): Promise<string | undefined> {
    const path = `/apis/keda.sh/v1alpha1/namespaces/${w.namespace}/scaledobjects`;
    try {
      const list = await this.deps.client.list<{
        metadata: { name: string };
        spec?: { scaleTargetRef?: { name?: string; kind?: string } };
      }>(path);
      const match = list.items.find(
        (s) => s.spec?.scaleTargetRef?.name === w.name && (s.spec.scaleTargetRef.kind ?? 'Deployment') === w.kind,
      );
      return match ? `${path}/${match.metadata.name}` : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined; // KEDA is not installed
      throw error;
    }
  }
}

function objectRef(w: PlanWorkload): ObjectRef {
  return {
    apiVersion: apiVersionOf(w.kind),
    kind: w.kind,
    namespace: w.namespace,
    name: w.name,
    uid: w.uid || undefined,
  };
}
