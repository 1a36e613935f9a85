/**
 * The accounting cycle's unit costs of inference endpoints (issue #17; docs/unit-economics.md):
 * 1. ask Prometheus, at the cycle's start beside the DCGM query, one query per inference signal over the trailing
 *    --inference-window, ending at the cycle's end (src/measure/inference-metrics.ts);
 * 2. once the cycle's facts are gathered, plan every endpoint's figures over the same window (src/cost/unit-cost.ts);
 * 3. set the gauges, and hand the figures to the accountant, which offers them with each endpoint's annotations.
 *
 * A failed query leaves the cycle's figures unavailable, which is not unknown: the annotations on the objects and
 * the gauges stay as they were (a Prometheus outage is not an endpoint that stopped serving). The failure is
 * logged and counted, and the cost accrues regardless.
 */
import type { Logger } from 'pino';
import { asError, errorSummary } from '../controller/errors.ts';
import type { Metrics } from '../controller/metrics.ts';
import { formatMoney, type Nanos } from '../cost/money.ts';
import type { NodeFacts, PodFacts } from '../cost/types.ts';
import { planUnitCosts, renderUnitCost, unitCostValues, type Basis, type UnitCost } from '../cost/unit-cost.ts';
import {
  combineReadings,
  INFERENCE_SIGNALS,
  readSignal,
  signalQuery,
  type InferenceSignal,
  type PodInference,
  type SignalReading,
} from '../measure/inference-metrics.ts';
import type { PrometheusClient } from '../measure/prometheus-client.ts';

export interface UnitCostDeps {
  readonly prometheus: PrometheusClient;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly options: {
    /** --inference-window; 0: off. */
    readonly inferenceWindowMs: number;
    /** --inference-selector; '' for none. */
    readonly inferenceSelector: string;
  };
}

/** What the servers reported per pod ("namespace/name"), or the first failure among the queries. */
export type InferenceAnswer = ReadonlyMap<string, PodInference> | Error;

/** The figures of a cycle by workload key, or undefined when they are unavailable (a query failed). */
export type CycleUnitCosts = ReadonlyMap<string, UnitCost> | undefined;

/** A model label's length at most: a series' model name is whatever its server (or a tenant) wrote. */
const MAX_MODEL_LABEL = 128;

/** The error and latency series of a signal: one per signal, apart from the DCGM signals'. */
const metricSignal = (signal: InferenceSignal) => `inference:${signal}`;

/** What an endpoint's unit costs add to its annotations: a part of the display key, the shape, the keys. */
export interface UnitCostPart {
  readonly key: string;
  /** Which figures are known, a change of which is written at once (annotation-writer.ts); undefined: as before. */
  readonly shape: string | undefined;
  readonly render: () => Record<string, string | null>;
}

interface GaugeSeries {
  readonly gauge: Metrics['costPerMillionTokens'] | Metrics['costPerThousandRequests'];
  readonly labels: Record<string, string>;
}

export class UnitCosts {
  private readonly deps: UnitCostDeps;
  /** The gauge series set by the last available cycle, by their labels: those not set again are removed. */
  private gauges = new Map<string, GaugeSeries>();

  constructor(deps: UnitCostDeps) {
    this.deps = deps;
    // Error counters start at 0, so that "no errors" is a series, as the DCGM signals' are.
    if (this.enabled)
      for (const spec of INFERENCE_SIGNALS) deps.metrics.promErrors.inc({ signal: metricSignal(spec.signal) }, 0);
  }

  get enabled(): boolean {
    return this.deps.options.inferenceWindowMs > 0;
  }

  /** --inference-window in whole seconds. */
  get windowSeconds(): number {
    return Math.round(this.deps.options.inferenceWindowMs / 1000);
  }

  /** Sends every signal's query for the window ending at `nowSeconds`; undefined when unit costs are off. */
  ask(nowSeconds: number): Promise<InferenceAnswer> | undefined {
    if (!this.enabled) return undefined;
    const { prometheus, metrics, options } = this.deps;
    const queries = INFERENCE_SIGNALS.map(async (spec): Promise<[InferenceSignal, SignalReading] | Error> => {
      const signal = metricSignal(spec.signal);
      const end = metrics.promLatency.startTimer({ signal });
      try {
        const series = await prometheus.queryVector(
          signalQuery(spec, options.inferenceSelector, this.windowSeconds),
          nowSeconds,
        );
        return [spec.signal, readSignal(series)];
      } catch (error) {
        metrics.promErrors.inc({ signal });
        return asError(error);
      } finally {
        end();
      }
    });
    return Promise.all(queries).then((results) => {
      const failed = results.find((r) => r instanceof Error);
      if (failed) return failed;
      const readings = results.filter((r): r is [InferenceSignal, SignalReading] => !(r instanceof Error));
      return combineReadings(new Map(readings)).pods;
    });
  }

  /**
   * The cycle's figures from its answer (undefined when off) and its facts (pods deleted since the last cycle
   * included), with the gauges set; undefined when they are unavailable.
   */
  plan(
    served: InferenceAnswer | undefined,
    facts: { readonly nowSeconds: number; readonly nodes: readonly NodeFacts[]; readonly pods: readonly PodFacts[] },
    currency: string,
  ): CycleUnitCosts {
    if (!served) return undefined;
    if (served instanceof Error) {
      this.deps.log.warn(
        { err: errorSummary(served) },
        'Prometheus queries of the inference servers failed: unit costs stay as they were this cycle',
      );
      return undefined;
    }
    const figures = planUnitCosts({ ...facts, windowSeconds: this.windowSeconds, served });
    this.record(figures, currency);
    return figures;
  }

  /**
   * An endpoint's part of its annotations, by workload key: none while unit costs are off; none either while the
   * cycle's figures are unavailable, which leaves those on the object as they are; else the four figures, each
   * a value or null (removed) when unknown.
   */
  partOf(key: string, cycle: CycleUnitCosts): UnitCostPart | undefined {
    if (!this.enabled) return undefined;
    if (cycle === undefined) return { key: 'unavailable', shape: undefined, render: () => ({}) };
    const figures = cycle.get(key);
    const values = unitCostValues(figures);
    return {
      key: values.join('|'),
      shape: values.map((v) => (v === null ? '-' : '+')).join(''),
      render: () => renderUnitCost(figures),
    };
  }

  /** Sets each endpoint's gauges and removes those of endpoints whose figures are no longer known. */
  private record(figures: ReadonlyMap<string, UnitCost>, currency: string): void {
    const { metrics } = this.deps;
    const next = new Map<string, GaugeSeries>();
    const set = (gauge: GaugeSeries['gauge'], labels: Record<string, string>, value: Nanos | undefined) => {
      if (value === undefined) return;
      gauge.set(labels, Number(formatMoney(value, 9)));
      next.set(`${gauge === metrics.costPerMillionTokens ? 't' : 'r'}${JSON.stringify(labels)}`, { gauge, labels });
    };
    for (const [key, unit] of figures) {
      const [kind = '', namespace = '', name = ''] = key.split('/');
      const workload = metrics.guardWorkload({ namespace, workload_kind: kind, workload: name });
      const model = unit.models.join(',').slice(0, MAX_MODEL_LABEL);
      const bases: [string, Basis | undefined][] = [
        ['allocation', unit.allocation],
        ['usage', unit.usage],
      ];
      for (const [basis, figure] of bases) {
        if (!figure) continue;
        const labels = { ...workload, model, basis, currency };
        set(metrics.costPerMillionTokens, { ...labels, tokens: 'all' }, figure.perMillionTokens);
        set(metrics.costPerMillionTokens, { ...labels, tokens: 'input' }, figure.perMillionInputTokens);
        set(metrics.costPerMillionTokens, { ...labels, tokens: 'output' }, figure.perMillionOutputTokens);
        set(metrics.costPerThousandRequests, labels, figure.perThousandRequests);
      }
    }
    for (const [id, series] of this.gauges) if (!next.has(id)) series.gauge.remove(series.labels);
    this.gauges = next;
  }
}
