/**
 * The operator's recommender (leader only, every --recommend-interval; docs/unit-economics.md#in-the-operator):
 * the rules of `aicost recommend` (src/recommend) over the operator's own ledger, Prometheus and cache, shown
 * three ways, and nothing changed by them:
 * 1. read the ledger's finished windows and the pods' GPU figures over --recommend-window (recommender-inputs.ts);
 * 2. run the rules: right-size and fewer-GPUs for the workloads whose every GPU pod was seen the whole window,
 *    empty GPU nodes for the nodes still there; metrics that are partial (a query failed, the last accounting
 *    cycle could not measure) leave the workloads' recommendations as they were, neither new nor gone;
 * 3. one Event per change on the workload or Node (plan-events.ts), the gauge
 *    aicost_recommendation_monthly_saving, and the current set for the policies' status.recommendations.
 * The last set seen is kept in memory only: a new leader (or a restart) gives each current recommendation's
 * Event once more.
 */
import type { Logger } from 'pino';
import { apiVersionOf } from '../controller/api-paths.ts';
import type { Clock } from '../controller/clock.ts';
import type { ClusterCache } from '../controller/cluster-cache.ts';
import type { EventRecorder, ObjectRef } from '../controller/events.ts';
import type { Metrics } from '../controller/metrics.ts';
import type { LedgerStore } from '../ledger/store.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';
import { DEFAULT_RIGHT_SIZE, type RightSizeSettings } from '../recommend/right-size.ts';
import { planRecommendationEvents, recommendationKey, type RecommendationKey } from '../recommend/plan-events.ts';
import { nodeRecommendations, workloadRecommendations } from '../recommend/recommend-from.ts';
import type { Recommendation } from '../recommend/types.ts';
import type { Measurement } from './accounting.ts';
import { workloadOf, workloadRecordOf } from './node-facts.ts';
import { ledgerSpan, readLedgerInputs, readPodObservations } from './recommender-inputs.ts';

export interface RecommenderOptions {
  readonly recommendWindowMs: number;
  readonly recommendEmptyAfterMs: number;
  readonly ledgerWindowMs: number;
  readonly scrapeIntervalMs: number;
  readonly dcgmSelector: string;
}

export interface RecommenderDeps {
  readonly cache: ClusterCache;
  readonly ledger: { readonly store: LedgerStore; readonly clusterId: string };
  readonly prometheus: PrometheusClient;
  readonly events: EventRecorder;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly options: RecommenderOptions;
  /** The accounting cycle's last measurement: when it failed, Prometheus is not to be trusted this run either. */
  readonly measurement: () => Measurement | undefined;
}

/** What one run found, for the log and the tests. */
export interface RecommendRun {
  readonly recommendations: number;
  readonly events: number;
  /** Why the workloads' recommendations were kept as they were, if they were. */
  readonly partial: string | undefined;
}

const WORKLOAD_TYPES: ReadonlySet<string> = new Set(['right-size', 'fewer-gpus']);

export class Recommender {
  private seen = new Map<RecommendationKey, Recommendation>();
  private latest: readonly Recommendation[] | undefined;
  /** The gauge's label sets set by the last run, to remove those that go. */
  private series = new Map<string, Record<string, string>>();
  private readonly deps: RecommenderDeps;
  private readonly settings: RightSizeSettings;

  constructor(deps: RecommenderDeps) {
    this.deps = deps;
    this.settings = { ...DEFAULT_RIGHT_SIZE, minObservedSeconds: Math.floor(deps.options.recommendWindowMs / 1000) };
  }

  /** The recommendations of the last run; undefined before the first (the policies' status keeps its own). */
  get current(): readonly Recommendation[] | undefined {
    return this.latest;
  }

  /** A new leader starts from nothing: its first run gives every current recommendation's Event once. */
  reset(): void {
    this.seen = new Map();
    this.latest = undefined;
  }

  async runCycle(): Promise<RecommendRun> {
    const { cache, ledger, prometheus, clock, log, options } = this.deps;
    const nowMs = clock.now();
    // 1. The sources. An unreadable ledger throws: the queue backs off, and nothing shown changes.
    const span = ledgerSpan(options.ledgerWindowMs, options.recommendWindowMs, options.recommendEmptyAfterMs);
    const inputs = await readLedgerInputs(ledger.store, ledger.clusterId, nowMs, span);
    const measurement = this.deps.measurement();
    const pods =
      measurement !== undefined && !measurement.available
        ? new Error(`the last accounting cycle could not measure: ${measurement.reason}`)
        : await readPodObservations(
            prometheus,
            {
              windowSeconds: this.settings.minObservedSeconds,
              idleUtilization: this.settings.idleUtilization,
              dcgmSelector: options.dcgmSelector,
              scrapeIntervalSeconds: options.scrapeIntervalMs / 1000,
            },
            nowMs,
          );

    // 2. The rules.
    const found: Recommendation[] = [];
    let partial: string | undefined;
    if (pods instanceof Error) {
      partial = pods.message;
      found.push(...(this.latest ?? []).filter((r) => WORKLOAD_TYPES.has(r.type)));
    } else {
      // The pods must have run since the earlier of the metrics' window and the ledger windows read.
      const fromMs = Math.min(nowMs - options.recommendWindowMs, (inputs.endMs ?? nowMs) - span.workloadSpanMs);
      const unseen = this.workloadsNotSeenWhole(pods, fromMs);
      const ownerOf = (podKey: string) => this.targetOfPod(podKey);
      for (const r of workloadRecommendations(inputs.workloadRows, pods, this.settings, ownerOf))
        if (!unseen.has(r.target)) found.push(r);
    }
    for (const r of nodeRecommendations(inputs.nodeRows, { minEmptyMs: options.recommendEmptyAfterMs }))
      if (cache.nodes.store.has(r.target.slice('Node/'.length))) found.push(r);

    // 3. What shows them.
    const planned = planRecommendationEvents(this.seen, found);
    for (const e of planned) {
      const ref = this.objectRef(e.recommendation.target);
      if (ref) await this.deps.events.record(ref, 'Normal', e.reason, e.message);
    }
    this.seen = new Map(found.map((r) => [recommendationKey(r), r]));
    this.latest = found;
    this.setGauge(found);
    if (partial !== undefined)
      log.warn({ reason: partial }, 'GPU metrics are partial: the workloads keep the recommendations they had');
    log.info({ recommendations: found.length, events: planned.length, dataEnd: inputs.endMs }, 'recommendations');
    return { recommendations: found.length, events: planned.length, partial };
  }

  /** `namespace/Kind/name` of the workload the cache says a pod ("namespace/name") belongs to. */
  private targetOfPod(podKey: string): string | undefined {
    const pod = this.deps.cache.pods.store.get(podKey);
    if (pod === undefined) return undefined;
    const w = workloadOf(pod, this.deps.cache);
    return `${w.namespace}/${w.kind}/${w.name}`;
  }

  /**
   * Workloads with a GPU pod not seen the whole window: one that started after `fromMs` (a ledger window it
   * ran part of would lower the cost per hour, and its metrics are partial), or one with no figures at all.
   * Their other pods' figures are not the workload's, so they get no recommendation.
   */
  private workloadsNotSeenWhole(observed: ReadonlyMap<string, unknown>, fromMs: number): Set<string> {
    const windowStartSeconds = fromMs / 1000;
    const unseen = new Set<string>();
    for (const [key, pod] of this.deps.cache.pods.store) {
      const gpus = Object.values(pod.gpuRequests).reduce((a, b) => a + b, 0);
      if (gpus === 0 || pod.nodeName === '' || pod.endedAtSeconds !== undefined) continue;
      const started = pod.startedAtSeconds;
      if (started === undefined || started > windowStartSeconds || !observed.has(key)) {
        const target = this.targetOfPod(key);
        if (target !== undefined) unseen.add(target);
      }
    }
    return unseen;
  }

  /** The object an Event goes on: the cached workload or Node (an object gone from the cache gets none). */
  private objectRef(target: string): ObjectRef | undefined {
    const { cache } = this.deps;
    const parts = target.split('/');
    if (parts[0] === 'Node' && parts.length === 2) {
      const node = cache.nodes.store.get(parts[1] ?? '');
      return node && { apiVersion: 'v1', kind: 'Node', namespace: '', name: node.name, uid: node.uid };
    }
    const [namespace = '', kind = '', name = ''] = parts;
    if (kind === 'Pod') {
      const pod = cache.pods.store.get(`${namespace}/${name}`);
      return pod && { apiVersion: 'v1', kind, namespace, name, uid: pod.uid };
    }
    const record = workloadRecordOf(cache, kind, `${namespace}/${name}`);
    return record && { apiVersion: apiVersionOf(record.kind), kind: record.kind, namespace, name, uid: record.uid };
  }

  /**
   * The gauge from the current set: one series per recommendation, its target `Kind/name` with the namespace
   * apart; past the cardinality limit targets fold into __overflow__, whose series sums what folds into it.
   */
  private setGauge(current: readonly Recommendation[]): void {
    const { metrics } = this.deps;
    const values = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const r of current) {
      const parts = r.target.split('/');
      const namespace = parts.length === 3 ? (parts[0] ?? '') : '';
      const target = parts.length === 3 ? parts.slice(1).join('/') : r.target;
      const labels = metrics.guardRecommendation({ type: r.type, namespace, target, currency: r.currency });
      const key = JSON.stringify(labels);
      const entry = values.get(key) ?? { labels, value: 0 };
      entry.value += Number(r.monthlySaving) / 1e9;
      values.set(key, entry);
    }
    for (const [key, labels] of this.series) if (!values.has(key)) metrics.recommendationSaving.remove(labels);
    for (const { labels, value } of values.values()) metrics.recommendationSaving.set(labels, value);
    this.series = new Map([...values].map(([key, v]) => [key, v.labels]));
  }
}
