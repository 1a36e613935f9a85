/**
 * Enforces AICostPolicy rules idleGPU and scaleToZero, once per accounting cycle (leader only), from the
 * cycle's measurement. Steps:
 * 1. Build each GPU workload's view (labels, annotations, namespace labels) and give each rule to its
 *    winning policy (policy/match.ts).
 * 2. Wake sleeping dev endpoints first: on `aicost.dev/wake`, on the wake schedule; a manual scale-up of a
 *    sleeping endpoint is respected (the operator stops tracking it and starts a fresh idle window).
 * 3. Run the idle clock (policy/idle.ts) per workload and rule; warn, then act after the grace period.
 *    Enforce scales Deployments/StatefulSets to zero (through the scale subresource, or KEDA's
 *    paused-replicas when a ScaledObject drives it), suspends Jobs, evicts bare Pods (PDBs hold). Audit
 *    changes nothing and records what Enforce would do, with the estimated saving.
 * 4. Write each policy's status when it changed.
 * Unknown metrics never lead to an action: the idle clock resets, and MetricsAvailable turns False.
 */
import type { Logger } from 'pino';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder, ObjectRef } from '../controller/events.ts';
import { apiVersionOf, objectPath } from '../controller/api-paths.ts';
import type { KubeClient } from '../controller/kube-client.ts';
import { errorSummary, isNotFound, KubeApiError } from '../controller/errors.ts';
import type { OwnEventRecord, PodRecord, WorkloadRecord } from '../controller/projections.ts';
import type { Reflector } from '../controller/reflector.ts';
import { parseDuration } from '../config/duration.ts';
import type { PolicyStatus } from '../crds/aicost-policy.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import { formatMoney, parseMoney, type Nanos } from '../cost/money.ts';
import { workloadKey } from '../cost/rollup.ts';
import type { WorkloadRef } from '../cost/types.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import { budgetNoticeDue, metricsCondition, readyCondition, stamp, unusableBecause } from '../policy/conditions.ts';
import { lastFire, parseCron } from '../policy/cron.ts';
import { nextScheduleFireMs, scheduleProblem, type WakeSchedule } from '../policy/schedule.ts';
import { actionStamp, pastRfc3339Ms, recordedSince } from '../policy/last-action.ts';
import { COST_PER_HOUR_BEFORE, costPerHourBeforeText, heldOffSavingPerHour } from '../policy/savings.ts';
import { decideIdle, type IdleRule, type IdleState, type WindowMeasure } from '../policy/idle.ts';
import { assignRules, modeOf, type Mode, type PolicyRef, type RuleName, type WorkloadView } from '../policy/match.ts';
import type { Accountant, Measurement } from './accounting.ts';
import { physicalGpus, priceOf, workloadOf } from './node-facts.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { PricingSource } from '../pricing/pricing-source.ts';
import { capacityTypeOf } from '../pricing/capacity-type.ts';
import { checkCheckpoint } from '../policy/spot.ts';
import {
  checkpointFreshness,
  declaredInterval,
  forgoneSavingPerHour,
  interruptionTaint,
  lastCheckpointMs,
  placementToRecord,
  SPOT_RECORDED,
  workAtRisk,
} from '../policy/spot-watch.ts';
import { DENIALS_COUNTED, DENIED_BY, deniedToRecord, type DeniedEvent } from '../policy/spot-denials.ts';
import { toRfc3339 } from '../cost/ledger.ts';
import { jsonEqual } from '../controller/deep-equal.ts';

export const POLICY_ANNOTATION = {
  idleSince: 'aicost.dev/idle-since',
  lastAction: 'aicost.dev/last-action',
  replicasBefore: 'aicost.dev/replicas-before',
  asleepSince: 'aicost.dev/asleep-since',
  wake: 'aicost.dev/wake',
  sleepHandled: 'aicost.dev/sleep-handled',
  pausedVia: 'aicost.dev/paused-via',
  doNotDisrupt: 'karpenter.sh/do-not-disrupt',
} as const;
const KEDA_PAUSED = 'autoscaling.keda.sh/paused-replicas';
const HOURS_PER_MONTH = 730n;
const MAX_ACTIONS = 20;

export interface PolicyControllerDeps {
  readonly cache: ClusterCache;
  readonly policies: Reflector<PolicyRecord>;
  /** The spot webhook's SpotDenied Events (createOwnEventReflector): its denials, to count in status. */
  readonly spotDenials: Reflector<OwnEventRecord>;
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
  readonly onAction?: (policy: string, rule: RuleName, action: string, mode: string) => void;
}

/**
 * A governed workload as one pass joins it: the matching input (its namespace's labels are read when it is
 * matched), its cached record and its GPU pods.
 */
interface Workload extends WorkloadRef, Omit<WorkloadView, 'namespaceLabels'> {
  readonly kind: 'Deployment' | 'StatefulSet' | 'Job' | 'Pod';
  readonly uid: string;
  readonly record: WorkloadRecord | undefined;
  readonly pods: PodRecord[];
}

type Action = NonNullable<PolicyStatus['lastActions']>[number];

interface PolicyTally {
  matched: number;
  overridden: { workload: string; rule: RuleName; by: string }[];
  overriddenCount: number;
  actions: Action[];
  actionCount: number;
  /** Would-be savings: Audit's would-be actions, the spot saving forgone. */
  estimatedPerHour: Nanos;
  /** What the workloads the policy holds off (or turned off this cycle) cost awake. */
  realizedPerHour: Nanos;
  /** The GPU pods of the workloads whose idleGPU or scaleToZero rule this policy governs, measured or not. */
  pods: { measured: number; unknown: number; example: string | undefined };
}

export class PolicyController {
  private readonly idle = new Map<string, IdleState>();
  /** Audit records made in the current idle episode, so a would-be action is reported once. */
  private readonly audited = new Set<string>();
  private readonly history = new Map<string, { actions: Action[]; count: number }>();
  /** Spot episodes already reported (Event and status entry), by workload or pod and node. */
  private readonly staleCheckpoints = new Set<string>();
  private readonly interrupted = new Set<string>();
  private readonly forgone = new Set<string>();
  /** aicost.dev/counted as this leader wrote it, by Event uid: the cache may not show its own write yet. */
  private readonly deniedCounted = new Map<string, number>();
  private readonly deps: PolicyControllerDeps;

  constructor(deps: PolicyControllerDeps) {
    this.deps = deps;
  }

  reset(): void {
    this.idle.clear();
    this.audited.clear();
  }

  /**
   * One pass over every policy. Returns when the next wake or sleep schedule fires, so the caller can
   * reconcile again then rather than at the next accounting interval.
   */
  async runCycle(): Promise<{ readonly nextScheduleAtMs: number | undefined }> {
    const { policies, accountant, clock, log } = this.deps;
    const measurement = accountant.measurement;
    const report = accountant.report;
    const now = clock.now();
    const valid: PolicyRef[] = [];
    for (const p of policies.store.values()) if (p.spec) valid.push({ name: p.name, spec: p.spec });
    const tallies = new Map<string, PolicyTally>();
    for (const p of policies.store.values()) {
      const h = this.history.get(p.name) ?? {
        actions: [...(p.status?.lastActions ?? [])],
        count: p.status?.actionCount ?? 0,
      };
      this.history.set(p.name, h);
      tallies.set(p.name, {
        matched: 0,
        overridden: [],
        overriddenCount: 0,
        actions: h.actions,
        actionCount: h.count,
        estimatedPerHour: 0n,
        realizedPerHour: 0n,
        pods: { measured: 0, unknown: 0, example: undefined },
      });
    }

    const seen = { stale: new Set<string>(), interrupted: new Set<string>(), forgone: new Set<string>() };
    for (const w of this.workloads()) {
      const view: WorkloadView = {
        namespace: w.namespace,
        labels: w.labels,
        annotations: w.annotations,
        namespaceLabels: this.deps.cache.namespaces.store.get(w.namespace)?.labels ?? {},
      };
      const assignment = assignRules(valid, view, this.deps.protectedNamespaces);
      for (const name of assignment.matched) {
        const t = tallies.get(name);
        if (t) t.matched++;
      }
      for (const o of assignment.overridden) {
        const t = tallies.get(o.policy);
        if (!t) continue;
        t.overriddenCount++;
        if (t.overridden.length < 20)
          t.overridden.push({ workload: `${w.kind}/${w.namespace}/${w.name}`, rule: o.rule, by: o.by });
      }
      const costPerHour =
        report?.workloadCostPerHour.get(
          workloadKey({ kind: w.kind === 'Pod' ? 'Pod' : w.kind, namespace: w.namespace, name: w.name }),
        ) ?? this.podRate(w);
      try {
        const stz = assignment.winners.scaleToZero;
        const idle = assignment.winners.idleGPU;
        const held = heldOffSavingPerHour({
          ...w,
          replicas: w.record?.replicas,
          suspended: w.record?.suspended ?? false,
        });
        if (stz && w.kind === 'Deployment') {
          const sleep = await this.wakeIfDue(w, stz, now);
          if (sleep === 'asleep' && held !== undefined) addRealized(tallies, stz, held);
          const handled = sleep !== 'awake' || (await this.sleepIfScheduled(w, stz, now, costPerHour, tallies));
          if (!handled) await this.applyIdleRule(w, stz, 'scaleToZero', measurement, now, costPerHour, tallies);
        } else if (idle && held !== undefined) addRealized(tallies, idle, held);
        if (idle && !(stz && w.kind === 'Deployment'))
          await this.applyIdleRule(w, idle, 'idleGPU', measurement, now, costPerHour, tallies);
        await this.watchSpot(w, assignment.winners.spot, now, tallies, seen);
        await this.recordPlacement(w, assignment.winners.spot, now, tallies);
      } catch (error) {
        log.warn(
          { err: errorSummary(error), workload: `${w.kind}/${w.namespace}/${w.name}` },
          'policy action failed; retrying next cycle',
        );
      }
    }
    // Forget episodes that ended, so a new one is reported again.
    for (const [set, current] of [
      [this.staleCheckpoints, seen.stale],
      [this.interrupted, seen.interrupted],
      [this.forgone, seen.forgone],
    ] as const) {
      for (const key of set) if (!current.has(key)) set.delete(key);
    }
    this.deps.metrics?.checkpointStale.set(seen.stale.size);
    await this.recordDenials(now, tallies);
    await this.writeStatuses(tallies, measurement);
    const schedules: WakeSchedule[] = [];
    for (const p of valid) if (p.spec.rules.scaleToZero?.schedule) schedules.push(p.spec.rules.scaleToZero.schedule);
    return { nextScheduleAtMs: nextScheduleFireMs(schedules, now) };
  }

  /** GPU workloads: owners of pods that hold GPUs, plus sleeping Deployments (no pods) and bare pods. */
  private workloads(): Workload[] {
    const { cache } = this.deps;
    const byKey = new Map<string, Workload>();
    const add = (
      kind: Workload['kind'],
      namespace: string,
      name: string,
      record: WorkloadRecord | undefined,
      pod?: PodRecord,
    ) => {
      const key = `${kind}/${namespace}/${name}`;
      let w = byKey.get(key);
      if (!w) {
        w = {
          kind,
          namespace,
          name,
          uid: record?.uid ?? pod?.uid ?? '',
          labels: record?.labels ?? pod?.labels ?? {},
          annotations: { ...record?.templateAnnotations, ...(record?.annotations ?? pod?.annotations) },
          record,
          pods: [],
        };
        byKey.set(key, w);
      }
      if (pod) w.pods.push(pod);
    };
    for (const pod of cache.pods.store.values()) {
      if (Object.keys(pod.gpuRequests).length === 0 || pod.endedAtSeconds !== undefined) continue;
      const ref = workloadOf(pod, cache.replicaSets.store);
      const store =
        ref.kind === 'Deployment'
          ? cache.deployments
          : ref.kind === 'StatefulSet'
            ? cache.statefulSets
            : ref.kind === 'Job'
              ? cache.jobs
              : undefined;
      if (ref.kind === 'Pod') add('Pod', pod.namespace, pod.name, undefined, pod);
      else if (store)
        add(
          ref.kind as Workload['kind'],
          ref.namespace,
          ref.name,
          store.store.get(`${ref.namespace}/${ref.name}`),
          pod,
        );
    }
    // Held off by a policy, without pods: still governed (wake, realized saving).
    for (const d of cache.deployments.store.values()) {
      if (d.annotations[POLICY_ANNOTATION.replicasBefore] !== undefined) add('Deployment', d.namespace, d.name, d);
    }
    for (const s of cache.statefulSets.store.values()) {
      if (s.annotations[POLICY_ANNOTATION.replicasBefore] !== undefined) add('StatefulSet', s.namespace, s.name, s);
    }
    for (const j of cache.jobs.store.values()) {
      if (j.suspended && j.annotations[COST_PER_HOUR_BEFORE] !== undefined) add('Job', j.namespace, j.name, j);
    }
    return [...byKey.values()];
  }

  /**
   * Spot watch, for every GPU workload: on spot nodes, Events for overdue checkpoints and for reclaims (with
   * the work at risk since the last checkpoint); on on-demand nodes, under a spot rule that would send it to
   * spot, the saving it forgoes. The governing spot policy, if any, gets a status entry for each.
   */
  private async watchSpot(
    w: Workload,
    policy: PolicyRef | undefined,
    now: number,
    tallies: Map<string, PolicyTally>,
    seen: { stale: Set<string>; interrupted: Set<string>; forgone: Set<string> },
  ): Promise<void> {
    const { cache, events, accountant } = this.deps;
    const rule = policy?.spec.rules.spot;
    const mode = policy ? modeOf(policy.spec, 'spot', this.deps.defaultMode) : 'Audit';
    const tally = policy ? tallies.get(policy.name) : undefined;
    const rates = accountant.report?.podCostPerHour;
    const currency = accountant.currency;
    const key = `${w.kind}/${w.namespace}/${w.name}`;
    for (const pod of w.pods) {
      const node = cache.nodes.store.get(pod.nodeName);
      if (!node || pod.startedAtSeconds === undefined) continue;
      const costPerHour = rates?.get(pod.uid) ?? 0n;
      const gpus = Object.values(pod.gpuRequests).reduce((a, b) => a + b, 0);
      const last = lastCheckpointMs(pod.annotations, w.annotations);
      if (capacityTypeOf(node.labels) === 'spot') {
        const taint = interruptionTaint(node.taints);
        const interruptKey = `${pod.uid}/${node.name}`;
        if (taint) seen.interrupted.add(interruptKey);
        if (taint && !this.interrupted.has(interruptKey)) {
          this.interrupted.add(interruptKey);
          const since = Math.max(last ?? 0, pod.startedAtSeconds * 1000);
          const risk = workAtRisk(gpus, since, now, costPerHour);
          const reason = `spot node ${node.name} is being reclaimed (${taint}): pod ${pod.name} risks ${risk.gpuHours.toFixed(2)} GPU-hours (${formatMoney(risk.cost, 2)} ${currency}) of work since ${last === undefined ? 'it started, no checkpoint reported' : `its last checkpoint at ${toRfc3339(Math.floor(last / 1000))}`}`;
          this.deps.metrics?.spotAtRisk.inc(
            { namespace: w.namespace, workload_kind: w.kind, workload: w.name, currency },
            Number(formatMoney(risk.cost, 9)),
          );
          await events.record(this.objectRef(w), 'Warning', 'SpotInterruption', reason);
          if (policy)
            this.recordAction(policy.name, tally, {
              workload: workloadName(w),
              rule: 'spot',
              action: 'SpotInterrupted',
              mode,
              now,
              reason,
              saving: 0n,
            });
        }
        const intervalMs = declaredInterval(pod.annotations) ?? declaredInterval(w.annotations);
        if (intervalMs === undefined) continue;
        const fresh = checkpointFreshness({
          intervalMs,
          lastCheckpointMs: last,
          startedAtMs: pod.startedAtSeconds * 1000,
          nowMs: now,
        });
        if (!fresh.stale) continue;
        seen.stale.add(key);
        if (this.staleCheckpoints.has(key)) continue;
        this.staleCheckpoints.add(key);
        const reason = `${fresh.reported ? `last checkpoint at ${toRfc3339(Math.floor(fresh.sinceMs / 1000))}` : 'no checkpoint reported (aicost.dev/last-checkpoint)'} is older than twice the declared interval of ${formatInterval(intervalMs)}, on spot node ${node.name}`;
        await events.record(this.objectRef(w), 'Warning', 'CheckpointStale', reason);
        if (policy)
          this.recordAction(policy.name, tally, {
            workload: workloadName(w),
            rule: 'spot',
            action: 'CheckpointStale',
            mode,
            now,
            reason,
            saving: 0n,
          });
      } else if (
        rule &&
        rule.placement !== 'Forbidden' &&
        checkCheckpoint({ ...w.annotations, ...pod.annotations }, rule).valid
      ) {
        const pricing = this.deps.pricing.current();
        const od = priceOf(node, pricing);
        const asSpot = pricing.priceNode({
          name: node.name,
          labels: { ...node.labels, 'karpenter.sh/capacity-type': 'spot' },
          gpuCount: physicalGpus(node),
          vcpu: node.cpuMillis / 1000,
          memoryGiB: node.memoryBytes / 2 ** 30,
        });
        if (!od.priced || !asSpot.priced) continue;
        const saving = forgoneSavingPerHour(costPerHour, od.onDemandPerHour, asSpot.perHour.total);
        if (saving <= 0n) continue;
        if (tally) tally.estimatedPerHour += saving;
        seen.forgone.add(key);
        if (this.forgone.has(key)) continue;
        this.forgone.add(key);
        const reason = `runs on on-demand node ${node.name} though it checkpoints: spot would save about ${formatMoney(saving, 2)} ${currency}/h`;
        await events.record(this.objectRef(w), 'Normal', 'ForgoneSpotSaving', reason);
        this.recordAction(policy.name, tally, {
          workload: workloadName(w),
          rule: 'spot',
          action: 'ForgoneSpotSaving',
          mode: 'Audit',
          now,
          reason,
          saving,
        });
      }
    }
  }

  /**
   * Counts, in the status of the policy named on the pods, the placement the spot webhook gave them. Webhook
   * replicas are not leaders and write nothing but Events; what they leave in the API is the placement marks
   * on each pod they changed, so the leader reads those, once per workload and placement, and remembers it in
   * aicost.dev/spot-recorded on the workload (so a restart does not count it again). A denied pod never
   * exists: denials are in the SpotDenied Events and aicost_webhook_admissions_total, not here.
   */
  private async recordPlacement(
    w: Workload,
    spotWinner: PolicyRef | undefined,
    now: number,
    tallies: Map<string, PolicyTally>,
  ): Promise<void> {
    const placed = placementToRecord(w.pods, w.annotations[SPOT_RECORDED]);
    // The marks are on the tenant's pods: count them only for the policy that governs this workload's spot
    // placement, in Enforce, which is the only case the webhook writes them.
    if (!placed || !spotWinner || placed.policy !== spotWinner.name) return;
    if (modeOf(spotWinner.spec, 'spot', this.deps.defaultMode) !== 'Enforce') return;
    const tally = tallies.get(placed.policy);
    if (!tally) return;
    await this.annotate(w, { [SPOT_RECORDED]: placed.marker });
    // The webhook changes pods only under Enforce.
    this.recordAction(placed.policy, tally, {
      workload: workloadName(w),
      rule: 'spot',
      mode: 'Enforce',
      now,
      saving: 0n,
      ...placed,
    });
  }

  private podRate(w: Workload): Nanos {
    const rates = this.deps.accountant.report?.podCostPerHour;
    return w.pods.reduce((sum, p) => sum + (rates?.get(p.uid) ?? 0n), 0n);
  }

  private measure(w: Workload, m: Measurement | undefined): WindowMeasure | undefined {
    if (!m) return undefined;
    if (w.pods.length === 0) return undefined;
    let max = 0;
    let coverage = 1;
    for (const pod of w.pods) {
      const key = `${pod.namespace}/${pod.name}`;
      const u = m.pods.get(key);
      if (!u)
        return {
          known: false,
          reason: m.unknown.get(key) ?? 'no DCGM data',
          maxUtilization: 0,
          coverage: 0,
          windowStartMs: m.windowStartMs,
        };
      max = Math.max(max, u.max);
      coverage = Math.min(coverage, u.coverage);
    }
    return { known: m.available, reason: m.reason, maxUtilization: max, coverage, windowStartMs: m.windowStartMs };
  }

  private async applyIdleRule(
    w: Workload,
    policy: PolicyRef,
    rule: 'idleGPU' | 'scaleToZero',
    m: Measurement | undefined,
    now: number,
    costPerHour: Nanos,
    tallies: Map<string, PolicyTally>,
  ): Promise<void> {
    const spec = policy.spec.rules[rule];
    if (!spec) return;
    if (w.kind === 'Job' ? w.record?.suspended : w.kind !== 'Pod' && w.record?.replicas === 0) return; // already off
    const tally = tallies.get(policy.name);
    if (m && tally) {
      for (const pod of w.pods) {
        const key = `${pod.namespace}/${pod.name}`;
        const problem = unusableBecause(m.pods.get(key), spec.minCoverage / 100, m.unknown.get(key));
        if (problem === undefined) tally.pods.measured++;
        else if (tally.pods.unknown++ === 0) tally.pods.example = `${key}: ${problem}`;
      }
    }
    let measure = this.measure(w, m);
    if (!measure) return;
    if (rule === 'scaleToZero' && policy.spec.rules.scaleToZero?.requestsQuery) {
      measure = { ...measure, ...(await this.requestRate(policy.spec.rules.scaleToZero.requestsQuery, w, now)) };
    }
    const idleRule: IdleRule = {
      threshold: spec.utilizationThreshold / 100,
      idleAfterMs: parseDuration(spec.idleAfter) ?? 3_600_000,
      gracePeriodMs: rule === 'idleGPU' ? (parseDuration(policy.spec.rules.idleGPU?.gracePeriod ?? '15m') ?? 0) : 0,
      minCoverage: spec.minCoverage / 100,
    };
    const key = `${rule}/${w.kind}/${w.namespace}/${w.name}`;
    // Read back as untrusted: garbage or a future time is as if absent (a fresh episode starts).
    const idleSinceMs = pastRfc3339Ms(w.annotations[POLICY_ANNOTATION.idleSince], now);
    const previous = this.idle.get(key) ?? (idleSinceMs === undefined ? {} : { idleSinceMs });
    const result = decideIdle(idleRule, previous, measure, now);
    this.idle.set(key, result.state);
    const mode = modeOf(policy.spec, rule, this.deps.defaultMode);
    const ref = this.objectRef(w);
    const d = result.decision;
    if (d.kind === 'active' || d.kind === 'unknown') this.audited.delete(key);
    // Both modes keep idle-since (and Audit its record in last-action), so a restart resumes the episode.
    if (result.clearAnnotation) await this.annotate(w, { [POLICY_ANNOTATION.idleSince]: null });

    if (d.kind === 'warn') {
      const verb = actionVerb(w.kind);
      await this.deps.events.record(
        ref,
        'Warning',
        'GPUIdle',
        `GPUs under ${spec.utilizationThreshold}% since ${toRfc3339(d.idleSinceMs / 1000)}; policy ${policy.name} (${rule}, ${mode}) will ${verb} it at ${toRfc3339(Math.floor(d.actAtMs / 1000))} unless it becomes active`,
      );
      await this.annotate(w, { [POLICY_ANNOTATION.idleSince]: toRfc3339(Math.floor(d.idleSinceMs / 1000)) });
    }
    if (d.kind !== 'act') return;
    if (
      w.annotations[POLICY_ANNOTATION.doNotDisrupt] === 'true' &&
      (rule !== 'idleGPU' || policy.spec.rules.idleGPU?.respectDoNotDisrupt !== false)
    ) {
      if (!this.audited.has(key)) {
        this.audited.add(key);
        await this.deps.events.record(
          ref,
          'Normal',
          'IdleButProtected',
          `idle, but annotated ${POLICY_ANNOTATION.doNotDisrupt}: "true"; policy ${policy.name} leaves it running`,
        );
      }
      return;
    }
    const action = actionVerb(w.kind);
    if (mode === 'Audit') {
      if (tally) tally.estimatedPerHour += costPerHour;
      if (
        this.audited.has(key) ||
        recordedSince(w.annotations[POLICY_ANNOTATION.lastAction], policy.name, rule, d.idleSinceMs, now)
      )
        return;
      this.audited.add(key);
      await this.annotate(w, { [POLICY_ANNOTATION.lastAction]: this.auditStamp(w, policy.name, rule, now) });
      const saving = formatMoney(costPerHour, 4);
      await this.deps.events.record(
        ref,
        'Normal',
        'WouldScaleDown',
        `Audit: policy ${policy.name} (${rule}) would ${action} this idle workload, saving about ${saving} per hour`,
      );
      this.recordAction(policy.name, tally, {
        workload: workloadName(w),
        rule,
        action: `would-${action}`,
        mode,
        now,
        reason: `idle since ${toRfc3339(Math.floor(d.idleSinceMs / 1000))}`,
        saving: costPerHour,
      });
      return;
    }
    const realized = await this.act(w, policy.name, rule, d.idleSinceMs, now, costPerHour);
    if (tally) tally.realizedPerHour += realized;
    this.idle.delete(key);
    await this.deps.events.record(
      ref,
      'Warning',
      actionReason(w.kind),
      `policy ${policy.name} (${rule}) ${actionPast(w.kind)} this workload: GPUs idle since ${toRfc3339(Math.floor(d.idleSinceMs / 1000))}; saving about ${formatMoney(costPerHour, 4)} per hour`,
    );
    this.recordAction(policy.name, tally, {
      workload: workloadName(w),
      rule,
      action,
      mode,
      now,
      reason: `idle since ${toRfc3339(Math.floor(d.idleSinceMs / 1000))}`,
      saving: costPerHour,
    });
  }

  private recordAction(
    policy: string,
    tally: PolicyTally | undefined,
    a: {
      /** Kind/namespace/name. */
      workload: string;
      rule: RuleName;
      action: string;
      mode: 'Audit' | 'Enforce';
      now: number;
      reason: string;
      saving: Nanos;
      /** Actions this entry stands for (several denials of one Event, counted at once). */
      count?: number;
    },
  ): void {
    this.deps.onAction?.(policy, a.rule, a.action, a.mode);
    const h = this.history.get(policy);
    if (!h || !tally) return;
    h.actions.unshift({
      workload: a.workload,
      rule: a.rule,
      action: a.action,
      mode: a.mode,
      time: toRfc3339(Math.floor(a.now / 1000)),
      reason: a.reason,
      estimatedSavingPerHour: formatMoney(a.saving, 4),
    });
    h.actions.splice(MAX_ACTIONS);
    h.count += a.count ?? 1;
    tally.actions = h.actions;
    tally.actionCount = h.count;
  }

  /**
   * The spot webhook's denials, read from its SpotDenied Events (a denied pod never exists): each Event's new
   * denials go to the policy it names once aicost.dev/counted is written on it, so a crash between the two
   * loses a count rather than doubling it. They count while their Event lives (the API server's event TTL,
   * one hour by default, so at least one accounting interval).
   */
  private async recordDenials(now: number, tallies: Map<string, PolicyTally>): Promise<void> {
    const { spotDenials, client, log } = this.deps;
    if (!spotDenials.synced) return;
    const events: DeniedEvent[] = [];
    for (const e of spotDenials.store.values()) {
      const policy = e.annotations[DENIED_BY];
      if (policy) events.push({ ...e, policy, counted: e.annotations[DENIALS_COUNTED], workload: e.involvedObject });
    }
    const live = new Set(events.map((e) => e.uid));
    for (const uid of this.deniedCounted.keys()) if (!live.has(uid)) this.deniedCounted.delete(uid);
    for (const d of deniedToRecord(events, this.deniedCounted, new Set(tallies.keys()))) {
      try {
        // The uid precondition: an expired Event's name is never another one's count.
        await client.patch(
          objectPath('Event', d.namespace, d.name),
          { metadata: { uid: d.uid, annotations: { [DENIALS_COUNTED]: d.marker } } },
          'merge',
        );
      } catch (error) {
        if (!isNotFound(error) && !(error instanceof KubeApiError && error.code === 409))
          log.warn({ err: errorSummary(error), event: `${d.namespace}/${d.name}` }, 'could not count spot denials');
        continue;
      }
      this.deniedCounted.set(d.uid, Number(d.marker));
      // The webhook denies only under Enforce.
      this.recordAction(d.policy, tallies.get(d.policy), {
        workload: d.workload,
        rule: 'spot',
        action: 'SpotDenied',
        mode: 'Enforce',
        now,
        reason: d.reason,
        saving: 0n,
        count: d.newDenials,
      });
    }
  }

  /** What Enforce would have done, in aicost.dev/last-action. */
  private auditStamp(w: Workload, policy: string, rule: RuleName, now: number): string {
    return actionStamp(`Audit: would be ${actionPast(w.kind)}`, policy, rule, toRfc3339(Math.floor(now / 1000)));
  }

  /** Turns the workload off; returns the hourly saving it realizes while it stays off (none for an eviction). */
  private async act(
    w: Workload,
    policy: string,
    rule: RuleName,
    idleSinceMs: number,
    now: number,
    costPerHour: Nanos,
  ): Promise<Nanos> {
    const { client } = this.deps;
    const stamp = actionStamp(actionPast(w.kind), policy, rule, toRfc3339(Math.floor(now / 1000)));
    const before = costPerHourBeforeText(costPerHour);
    if (w.kind === 'Deployment' || w.kind === 'StatefulSet') {
      const replicas = w.record?.replicas ?? 1;
      await this.annotate(w, {
        [POLICY_ANNOTATION.replicasBefore]: String(replicas),
        [COST_PER_HOUR_BEFORE]: before,
        [POLICY_ANNOTATION.asleepSince]: toRfc3339(Math.floor(now / 1000)),
        [POLICY_ANNOTATION.lastAction]: stamp,
        [POLICY_ANNOTATION.idleSince]: toRfc3339(Math.floor(idleSinceMs / 1000)),
      });
      const scaledObject = await this.scaledObjectFor(w);
      if (scaledObject) {
        // KEDA owns the replica count: pause it at zero the KEDA way rather than fight it.
        await this.annotate(w, { [POLICY_ANNOTATION.pausedVia]: 'keda' });
        await client.patch(scaledObject, { metadata: { annotations: { [KEDA_PAUSED]: '0' } } }, 'merge');
      } else {
        await client.patch(`${objectPath(w.kind, w.namespace, w.name)}/scale`, { spec: { replicas: 0 } }, 'merge');
      }
    } else if (w.kind === 'Job') {
      await client.patch(
        objectPath('Job', w.namespace, w.name),
        {
          metadata: { annotations: { [POLICY_ANNOTATION.lastAction]: stamp, [COST_PER_HOUR_BEFORE]: before } },
          spec: { suspend: true },
        },
        'merge',
      );
    } else {
      // Eviction, not deletion, so PodDisruptionBudgets hold.
      await client.create(`${objectPath('Pod', w.namespace, w.name)}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: w.name, namespace: w.namespace },
      });
      return 0n;
    }
    return parseMoney(before);
  }

  /**
   * Wakes a sleeping Deployment on aicost.dev/wake or its wake schedule; respects a manual scale-up. Says
   * whether it was awake, stays asleep, or is awake again (woken, or scaled up by hand).
   */
  private async wakeIfDue(w: Workload, policy: PolicyRef, now: number): Promise<'awake' | 'asleep' | 'woken'> {
    const before = w.annotations[POLICY_ANNOTATION.replicasBefore];
    if (before === undefined || !w.record) return 'awake';
    const ref = this.objectRef(w);
    const clear = {
      [POLICY_ANNOTATION.replicasBefore]: null,
      [COST_PER_HOUR_BEFORE]: null,
      [POLICY_ANNOTATION.asleepSince]: null,
      [POLICY_ANNOTATION.idleSince]: null,
      [POLICY_ANNOTATION.wake]: null,
      [POLICY_ANNOTATION.pausedVia]: null,
    };
    // Under KEDA the replica count follows the ScaledObject, not a person: it says nothing of a manual scale.
    const viaKeda = w.annotations[POLICY_ANNOTATION.pausedVia] === 'keda';
    if (!viaKeda && (w.record.replicas ?? 0) > 0) {
      // Someone scaled it up by hand: do not fight it; a fresh idle window starts.
      await this.annotate(w, {
        ...clear,
        [POLICY_ANNOTATION.lastAction]: `manual scale-up noticed at ${toRfc3339(Math.floor(now / 1000))}`,
      });
      this.idle.delete(`scaleToZero/${w.kind}/${w.namespace}/${w.name}`);
      await this.deps.events.record(
        ref,
        'Normal',
        'ManualScaleUp',
        'scaled up by hand while asleep: the operator stops holding it at zero and starts a fresh idle window',
      );
      return 'woken';
    }
    let reason: string | undefined;
    if (w.annotations[POLICY_ANNOTATION.wake] !== undefined) reason = `woken on demand (${POLICY_ANNOTATION.wake})`;
    const schedule = policy.spec.rules.scaleToZero?.schedule;
    const asleepSince = Date.parse(w.annotations[POLICY_ANNOTATION.asleepSince] ?? '');
    if (!reason && schedule && Number.isFinite(asleepSince)) {
      const fired = lastFire(parseCron(schedule.wake), schedule.timeZone, now);
      if (fired !== undefined && fired > asleepSince)
        reason = `woken by the schedule "${schedule.wake}" (${schedule.timeZone})`;
    }
    if (!reason) return 'asleep'; // stays asleep: nothing else to decide
    const replicas = Math.max(1, Number(before) || 1);
    const scaledObject = await this.scaledObjectFor(w);
    if (scaledObject)
      await this.deps.client.patch(scaledObject, { metadata: { annotations: { [KEDA_PAUSED]: null } } }, 'merge');
    await this.deps.client.patch(
      `${objectPath('Deployment', w.namespace, w.name)}/scale`,
      { spec: { replicas } },
      'merge',
    );
    await this.annotate(w, {
      ...clear,
      [POLICY_ANNOTATION.lastAction]: `${reason} at ${toRfc3339(Math.floor(now / 1000))}, ${replicas} replicas restored`,
    });
    this.idle.delete(`scaleToZero/${w.kind}/${w.namespace}/${w.name}`);
    await this.deps.events.record(ref, 'Normal', 'Woken', `${reason}: ${replicas} replicas restored`);
    return 'woken';
  }

  /**
   * Puts an awake endpoint to sleep when the sleep schedule fired after the wake schedule. Each sleep fire
   * is handled once (aicost.dev/sleep-handled), so waking an endpoint by hand in the evening is not undone.
   */
  private async sleepIfScheduled(
    w: Workload,
    policy: PolicyRef,
    now: number,
    costPerHour: Nanos,
    tallies: Map<string, PolicyTally>,
  ): Promise<boolean> {
    const schedule = policy.spec.rules.scaleToZero?.schedule;
    if (!schedule?.sleep || !w.record || (w.record.replicas ?? 0) === 0) return false;
    const slept = lastFire(parseCron(schedule.sleep), schedule.timeZone, now);
    if (slept === undefined) return false;
    const woke = lastFire(parseCron(schedule.wake), schedule.timeZone, now);
    const handled = Date.parse(w.annotations[POLICY_ANNOTATION.sleepHandled] ?? '');
    if ((woke !== undefined && woke >= slept) || (Number.isFinite(handled) && handled >= slept)) return false;
    const mode = modeOf(policy.spec, 'scaleToZero', this.deps.defaultMode);
    const reason = `sleep schedule "${schedule.sleep}" (${schedule.timeZone})`;
    const tally = tallies.get(policy.name);
    if (mode === 'Audit') {
      if (tally) tally.estimatedPerHour += costPerHour;
      const key = `sleep/${w.namespace}/${w.name}/${slept}`;
      const lastAction = w.annotations[POLICY_ANNOTATION.lastAction];
      if (!this.audited.has(key) && !recordedSince(lastAction, policy.name, 'scaleToZero', slept, now)) {
        this.audited.add(key);
        await this.annotate(w, {
          [POLICY_ANNOTATION.lastAction]: this.auditStamp(w, policy.name, 'scaleToZero', now),
        });
        await this.deps.events.record(
          this.objectRef(w),
          'Normal',
          'WouldScaleDown',
          `Audit: policy ${policy.name} would put this endpoint to sleep on its ${reason}`,
        );
        this.recordAction(policy.name, tally, {
          workload: workloadName(w),
          rule: 'scaleToZero',
          action: 'would-scale-to-zero',
          mode,
          now,
          reason,
          saving: costPerHour,
        });
      }
      return true;
    }
    const realized = await this.act(w, policy.name, 'scaleToZero', now, now, costPerHour);
    if (tally) tally.realizedPerHour += realized;
    await this.annotate(w, { [POLICY_ANNOTATION.sleepHandled]: toRfc3339(Math.floor(slept / 1000)) });
    await this.deps.events.record(
      this.objectRef(w),
      'Normal',
      'ScaledToZero',
      `policy ${policy.name} put this endpoint to sleep on its ${reason}`,
    );
    this.recordAction(policy.name, tally, {
      workload: workloadName(w),
      rule: 'scaleToZero',
      action: 'scale-to-zero',
      mode,
      now,
      reason,
      saving: costPerHour,
    });
    return true;
  }

  private async requestRate(
    query: string,
    w: Workload,
    now: number,
  ): Promise<Pick<WindowMeasure, 'requestRate' | 'requestsKnown'>> {
    const promql = query.replaceAll('$namespace', w.namespace).replaceAll('$name', w.name);
    try {
      const series = await this.deps.prometheus.queryMatrix(`(${promql})[1m:]`, Math.floor(now / 1000));
      const values = series.flatMap((s) => s.values.map(([, v]) => Number(v)));
      if (values.some((v) => !Number.isFinite(v))) return { requestRate: 0, requestsKnown: false };
      return { requestRate: values.length === 0 ? 0 : Math.max(...values), requestsKnown: true };
    } catch {
      return { requestRate: 0, requestsKnown: false };
    }
  }

  private async scaledObjectFor(w: Workload): Promise<string | undefined> {
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

  private async annotate(w: Workload, annotations: Record<string, string | null>): Promise<void> {
    try {
      await this.deps.client.patch(objectPath(w.kind, w.namespace, w.name), { metadata: { annotations } }, 'merge');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private objectRef(w: Workload): ObjectRef {
    return {
      apiVersion: apiVersionOf(w.kind),
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      uid: w.uid || undefined,
    };
  }

  private async writeStatuses(tallies: Map<string, PolicyTally>, measurement: Measurement | undefined): Promise<void> {
    const now = toRfc3339(Math.floor(this.deps.clock.now() / 1000));
    for (const policy of this.deps.policies.store.values()) {
      const t = tallies.get(policy.name);
      const previous = policy.status;
      const ready = readyCondition(
        policy.spec,
        policy.invalid,
        policy.spec ? schedulesProblem(policy.spec) : undefined,
      );
      const estimated = t?.estimatedPerHour ?? 0n;
      const realized = t?.realizedPerHour ?? 0n;
      const next: PolicyStatus = {
        observedGeneration: policy.generation,
        ...(policy.spec ? { mode: policy.spec.mode ?? this.deps.defaultMode } : {}),
        conditions: [
          ready,
          metricsCondition(
            measurement,
            policy.spec?.rules.idleGPU !== undefined || policy.spec?.rules.scaleToZero !== undefined,
            t?.pods ?? { measured: 0, unknown: 0, example: undefined },
          ),
        ].map((c) => stamp(c, previous?.conditions, policy.generation, now)),
        matchedWorkloads: t?.matched ?? 0,
        actionCount: t?.actionCount ?? 0,
        lastActions: t?.actions ?? [],
        overridden: t?.overridden ?? [],
        overriddenCount: t?.overriddenCount ?? 0,
        realizedSavingsPerHour: formatMoney(realized, 4),
        realizedSavingsPerMonth: formatMoney(realized * HOURS_PER_MONTH, 2),
        estimatedSavingsPerHour: formatMoney(estimated, 4),
        estimatedSavingsPerMonth: formatMoney(estimated * HOURS_PER_MONTH, 2),
        currency: this.deps.accountant.currency,
      };
      if (jsonEqual(next, previous)) continue; // status only when it changed
      try {
        await this.deps.client.patch(
          `${objectPath('AICostPolicy', undefined, policy.name)}/status`,
          { status: next },
          'merge',
        );
        if (budgetNoticeDue(previous?.conditions, ready))
          await this.deps.events.record(
            {
              apiVersion: 'aicost.dev/v1alpha1',
              kind: 'AICostPolicy',
              namespace: '',
              name: policy.name,
              uid: policy.uid,
            },
            'Warning',
            ready.reason,
            ready.message,
          );
      } catch (error) {
        if (!(error instanceof KubeApiError && error.code === 404))
          this.deps.log.warn({ err: errorSummary(error), policy: policy.name }, 'could not write policy status');
      }
    }
  }
}

function workloadName(w: Workload): string {
  return `${w.kind}/${w.namespace}/${w.name}`;
}

function addRealized(tallies: Map<string, PolicyTally>, policy: PolicyRef, perHour: Nanos): void {
  const t = tallies.get(policy.name);
  if (t) t.realizedPerHour += perHour;
}

function schedulesProblem(spec: PolicyRef['spec']): string | undefined {
  const schedule = spec.rules.scaleToZero?.schedule;
  if (!schedule) return undefined;
  for (const expression of [schedule.wake, schedule.sleep]) {
    const problem = expression === undefined ? undefined : scheduleProblem(expression, schedule.timeZone);
    if (problem) return `scaleToZero.schedule: ${problem}`;
  }
  return undefined;
}

function actionVerb(kind: Workload['kind']): string {
  return kind === 'Job' ? 'suspend' : kind === 'Pod' ? 'evict' : 'scale-to-zero';
}
function actionPast(kind: Workload['kind']): string {
  return kind === 'Job' ? 'suspended' : kind === 'Pod' ? 'evicted' : 'scaled to zero';
}
function actionReason(kind: Workload['kind']): string {
  return kind === 'Job' ? 'Suspended' : kind === 'Pod' ? 'Evicted' : 'ScaledToZero';
}

function formatInterval(ms: number): string {
  return ms % 3_600_000 === 0
    ? `${String(ms / 3_600_000)}h`
    : ms % 60_000 === 0
      ? `${String(ms / 60_000)}m`
      : `${String(ms / 1000)}s`;
}
