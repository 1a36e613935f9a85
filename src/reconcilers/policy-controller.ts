/**
 * Enforces AICostPolicy rules (idleGPU, scaleToZero with its schedules, the spot watch, budget alerts), once
 * per accounting cycle and at each schedule firing (leader only), in three steps:
 * 1. Snapshot (policy-snapshot.ts): the governed workloads from the caches, the winning policy of each rule
 *    (policy/match.ts), request rates for rules that read them.
 * 2. Plan (policy/plan.ts), pure: units of effects per workload, and what each policy's status counts.
 * 3. Execute (policy-executor.ts): the effects in order; each unit carried out moves the pass's memory on
 *    and adds its status entries. Then the spot webhook's denials are counted, the budgets evaluated
 *    (policy-budgets.ts), and each status written when it changed, with its budget Events after it.
 * Unknown metrics never lead to an action: the idle clock resets, and MetricsAvailable turns False.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder } from '../controller/events.ts';
import type { KubeClient } from '../controller/kube-client.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { OwnEventRecord } from '../controller/own-event-projection.ts';
import type { Reflector } from '../controller/reflector.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import { assignRules, matchPolicy, type Mode, type PolicyRef, type RuleName } from '../policy/match.ts';
import { recommendationsSummary, type RecommendationsStatus } from '../recommend/policy-summary.ts';
import type { Recommendation } from '../recommend/types.ts';
import { commitUnit, forgetEnded, recordAction, seedHistory } from '../policy/plan-memory.ts';
import { addToTallies, emptyTally, planStatus, type PolicyTally } from '../policy/plan-status.ts';
import { denialRecord, nextWakeAtMs, planWorkload } from '../policy/plan.ts';
import { emptyMemory, type ActionRecord, type PlanContext, type WorkloadInput } from '../policy/plan-types.ts';
import { workloadName } from '../policy/plan-words.ts';
import { DENIALS_COUNTED, deniedToRecord, type DenialKind, type DeniedEvent } from '../policy/spot-denials.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import type { Accountant } from './accounting.ts';
import type { BudgetPlan } from '../budget/plan-budget.ts';
import { budgetsToSleep, type PolicyBudgets } from './policy-budgets.ts';
import { PolicyExecutor } from './policy-executor.ts';
import { workloadRecordOf } from './node-facts.ts';
import {
  governedWorkloads,
  nodeLookup,
  podRates,
  requestRate,
  requestsQueryFor,
  spotPriceLookup,
} from './policy-snapshot.ts';

/** The Events of one kind of the webhook's denials, as the leader lists them. */
export interface DenialEvents {
  readonly kind: DenialKind;
  readonly events: Reflector<OwnEventRecord>;
}

export interface PolicyControllerDeps {
  readonly cache: ClusterCache;
  readonly policies: Reflector<PolicyRecord>;
  /** The webhook's denial Events of each kind (createOwnEventReflector): its denials, to count in status. */
  readonly denials: readonly DenialEvents[];
  readonly accountant: Accountant;
  readonly client: KubeClient;
  readonly prometheus: PrometheusClient;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  readonly protectedNamespaces: ReadonlySet<string>;
  /** Mode of policies that set none (--default-mode). */
  readonly defaultMode: Mode;
  /** Prices a node as spot, for the saving an on-demand workload forgoes. */
  readonly pricing: PricingSource;
  readonly metrics?: Metrics;
  /** The budgets' spend, plans and gauges (rules.budget). */
  readonly budgets: PolicyBudgets;
  /** `count` actions at once: the denials one Event stands for. */
  readonly onAction?: (policy: string, rule: RuleName, action: string, mode: string, count: number) => void;
  /**
   * The recommender's current recommendations, for status.recommendations (rules.recommendations); absent when
   * the recommender is off, undefined before its first run.
   */
  readonly recommendations?: (() => readonly Recommendation[] | undefined) | undefined;
}

export class PolicyController {
  private memory = emptyMemory();
  private readonly executor: PolicyExecutor;
  private readonly deps: PolicyControllerDeps;

  constructor(deps: PolicyControllerDeps) {
    this.deps = deps;
    this.executor = new PolicyExecutor({
      client: deps.client,
      events: deps.events,
      log: deps.log,
      metrics: deps.metrics,
      currency: () => deps.accountant.currency,
    });
  }

  /** A new leader starts from what the API holds (idle-since, last-action, status), not from this memory. */
  reset(): void {
    this.memory = emptyMemory();
    this.deps.budgets.reset();
  }

  /**
   * One pass over every policy. Returns when the next wake or sleep schedule fires, so the caller can
   * reconcile again then rather than at the next accounting interval.
   */
  async runCycle(): Promise<{ readonly nextScheduleAtMs: number | undefined }> {
    const { policies, cache, accountant } = this.deps;
    const plain = this.context();
    // The budgets first: an exceeded one's ScaleDevToZero acts in this very pass.
    const budgets = await this.deps.budgets.plan([...policies.store.values()], plain.currency, plain.nowMs);
    const ctx: PlanContext = {
      ...plain,
      exceededBudgets: budgetsToSleep(
        policies.store.values(),
        budgets,
        plain.nowMs,
        this.deps.defaultMode,
        plain.currency,
      ),
      budgetOverride: (namespace) => Boolean(cache.namespaces.store.get(namespace)?.budgetOverride),
    };
    const valid: PolicyRef[] = [];
    for (const p of policies.store.values()) if (p.spec) valid.push({ name: p.name, spec: p.spec });
    seedHistory(this.memory, policies.store.values());
    const tallies = new Map<string, PolicyTally>();
    for (const p of policies.store.values()) tallies.set(p.name, emptyTally());

    const seen: { episode: 'stale' | 'interrupted' | 'forgone'; key: string }[] = [];
    for (const w of governedWorkloads(cache, accountant.report)) {
      const namespaceLabels = cache.namespaces.store.get(w.namespace)?.labels ?? {};
      const view = { namespace: w.namespace, labels: w.labels, annotations: w.annotations, namespaceLabels };
      const assignment = assignRules(valid, view, this.deps.protectedNamespaces);
      const input: WorkloadInput = { workload: w, assignment, requests: await this.requests(w, assignment, ctx) };
      const plan = planWorkload(input, this.memory, ctx);
      addToTallies(tallies, workloadName(w), plan.tally);
      seen.push(...plan.seen);
      for (const done of await this.executor.runUnits(w, plan.units)) {
        commitUnit(this.memory, done);
        for (const r of done.realized) {
          const tally = tallies.get(r.policy);
          if (tally) tally.realizedPerHour += r.perHour;
        }
        for (const r of done.records) this.record(r, ctx.nowMs);
      }
    }
    forgetEnded(this.memory, seen);
    this.deps.metrics?.checkpointStale.set(seen.filter((s) => s.episode === 'stale').length);
    await this.countDenials(tallies, ctx.nowMs);
    await this.writeStatuses(tallies, ctx, budgets);
    return { nextScheduleAtMs: nextWakeAtMs(valid, ctx.nowMs) };
  }

  private context(): PlanContext {
    const { accountant, cache, pricing } = this.deps;
    return {
      nowMs: this.deps.clock.now(),
      defaultMode: this.deps.defaultMode,
      currency: accountant.currency,
      measurement: accountant.measurement,
      node: nodeLookup(cache),
      spotPrices: spotPriceLookup(cache, pricing),
      podCostPerHour: podRates(accountant.report),
    };
  }

  private async requests(
    w: WorkloadInput['workload'],
    assignment: WorkloadInput['assignment'],
    ctx: PlanContext,
  ): Promise<WorkloadInput['requests']> {
    const promql = requestsQueryFor(w, assignment, ctx);
    return promql === undefined ? undefined : requestRate(this.deps.prometheus, promql, ctx.nowMs);
  }

  private record(r: ActionRecord, nowMs: number): void {
    this.deps.onAction?.(r.policy, r.rule, r.action, r.mode, r.count ?? 1);
    recordAction(this.memory, r, nowMs);
  }

  /**
   * The webhook's denials, read from its Events (a denied pod never exists): each Event's new denials go to
   * the policy it names once aicost.dev/counted is written on it, so a crash between the two loses a count
   * rather than doubling it. They count while their Event lives (the API server's event TTL, one hour by
   * default, so at least one accounting interval). A budget's would-be refusals in Audit count the same way.
   */
  private async countDenials(tallies: ReadonlyMap<string, PolicyTally>, nowMs: number): Promise<void> {
    const counted = this.memory.deniedCounted;
    const live = new Set<string>();
    for (const { events } of this.deps.denials) for (const e of events.store.values()) live.add(e.uid);
    for (const uid of counted.keys()) if (!live.has(uid)) counted.delete(uid);
    for (const { kind, events: reflector } of this.deps.denials) {
      if (!reflector.synced) continue;
      const events: DeniedEvent[] = [];
      for (const e of reflector.store.values()) {
        const policy = e.annotations[kind.policyAnnotation];
        if (policy) events.push({ ...e, policy, counted: e.annotations[DENIALS_COUNTED], workload: e.involvedObject });
      }
      for (const d of deniedToRecord(kind, events, counted, new Set(tallies.keys()))) {
        if (!(await this.executor.markDenialsCounted(d))) continue;
        counted.set(d.uid, Number(d.marker));
        this.record(denialRecord(d), nowMs);
      }
    }
  }

  /**
   * status.recommendations of a policy with rules.recommendations: the recommender's current set for the
   * workloads it selects, or what the status has until the recommender's first run; none without the rule.
   */
  private recommendationsOf(policy: PolicyRecord, currency: string): RecommendationsStatus | undefined {
    const rule = policy.spec?.rules.recommendations;
    if (!policy.spec || !rule) return undefined;
    const current = this.deps.recommendations?.();
    if (current === undefined) return policy.status?.recommendations;
    const ref: PolicyRef = { name: policy.name, spec: policy.spec };
    const selects = (target: string): boolean => {
      const view = this.workloadView(target);
      return view !== undefined && matchPolicy(ref, view, this.deps.protectedNamespaces).applies;
    };
    return recommendationsSummary(current, selects, currency, rule.top);
  }

  /** What policy matching reads of the cached workload a target (`namespace/Kind/name`) names. */
  private workloadView(target: string) {
    const { cache } = this.deps;
    const [namespace = '', kind = '', name = ''] = target.split('/');
    const record =
      kind === 'Pod'
        ? cache.pods.store.get(`${namespace}/${name}`)
        : workloadRecordOf(cache, kind, `${namespace}/${name}`);
    if (!record) return undefined;
    const namespaceLabels = cache.namespaces.store.get(namespace)?.labels ?? {};
    return { namespace, labels: record.labels, annotations: record.annotations, namespaceLabels };
  }

  /**
   * Each policy's status, written when it changed; then, once written, the Events of the budget thresholds it
   * records as crossed (a status that could not be written is planned again next pass, Events included).
   */
  private async writeStatuses(
    tallies: ReadonlyMap<string, PolicyTally>,
    ctx: PlanContext,
    budgets: ReadonlyMap<string, BudgetPlan>,
  ): Promise<void> {
    for (const policy of this.deps.policies.store.values()) {
      const history = this.memory.history.get(policy.name) ?? { actions: [], count: 0 };
      const budget = budgets.get(policy.name);
      // Not evaluated this pass: the status keeps what it has, unless the policy no longer has a budget.
      const budgetStatus =
        budget?.status ?? (policy.spec && !policy.spec.rules.budget ? undefined : policy.status?.budget);
      const plan = planStatus(
        policy,
        tallies.get(policy.name) ?? emptyTally(),
        history,
        { ...ctx, nowMs: this.deps.clock.now() },
        budgetStatus,
        this.recommendationsOf(policy, ctx.currency),
      );
      if (!plan.changed || !(await this.executor.writeStatus(policy, plan.status)) || !budget) continue;
      this.deps.budgets.statusWritten(policy, budget);
      const namespaces = budget.namespaces.filter((ns) => this.deps.cache.namespaces.store.has(ns));
      for (const event of budget.events) await this.executor.recordBudgetEvent(policy, namespaces, event);
    }
  }
}
