/**
 * One budget's evaluation as a pure function of its scope's hourly spend and a given instant: the period,
 * the spend so far, the forecast, the thresholds newly crossed (one Event each) and the status to write.
 * The policy controller gathers the spend (reconcilers/budget-spend.ts) and carries the result out.
 */
import { divRoundHalfUp, formatMoney, NANOS_PER_UNIT, parseMoney, type Nanos } from '../cost/money.ts';
import type { PolicySpec, PolicyStatus } from '../crds/aicost-policy.ts';
import { rfc3339 } from '../policy/plan-words.ts';
import { readAnomaly, type AnomalyInput, type AnomalyReading } from './anomaly.ts';
import { forecastSpend, FORECAST_LOOKBACK_MS } from './forecast.ts';
import { floorHour, spendBetween } from './hourly.ts';
import { periodAt, periodNoun, type Period } from './period.ts';
import { crossThresholds, type ThresholdMemory } from './thresholds.ts';

export type BudgetRule = NonNullable<PolicySpec['rules']['budget']>;
export type BudgetStatus = NonNullable<PolicyStatus['budget']>;

export const THRESHOLD_CROSSED = 'BudgetThresholdCrossed';
export const EXCEEDED = 'BudgetExceeded';
export const ANOMALY = 'SpendAnomaly';
/** The namespaces a threshold's Event also goes to: those with the most spend in the period. */
export const MAX_NAMESPACE_EVENTS = 10;
/** status.budget.spent to the micro-unit, as aicost.dev/cost: the status alone can be checked against the ledger. */
const SPENT_DIGITS = 6;
/** The forecast, an estimate, and the amounts in Event messages, which people read: to the cent. */
const CENT_DIGITS = 2;

export interface BudgetEvent {
  readonly reason: typeof THRESHOLD_CROSSED | typeof EXCEEDED | typeof ANOMALY;
  /** The percent crossed; 0 for an anomaly. */
  readonly threshold: number;
  readonly message: string;
}

export interface BudgetView {
  readonly policy: string;
  readonly rule: BudgetRule;
  readonly currency: string;
  /** The spend is known up to here (the accountant's last cycle). */
  readonly asOfMs: number;
  /** The scope's spend by UTC hour from budgetReach(...).fromMs up to asOfMs. */
  readonly series: ReadonlyMap<number, Nanos>;
  /** The scope's spend by namespace in the period. */
  readonly namespaces: ReadonlyMap<string, Nanos>;
  /** What the status (or this leader, which wrote it last) remembers. */
  readonly previous: ThresholdMemory | undefined;
}

export interface BudgetPlan {
  readonly status: BudgetStatus;
  readonly memory: ThresholdMemory;
  /** In the order crossed, lowest first. */
  readonly events: readonly BudgetEvent[];
  /** Where the Events go besides the policy: the namespaces with the most spend, at most MAX_NAMESPACE_EVENTS. */
  readonly namespaces: readonly string[];
  readonly spentRatio: number;
  readonly forecastRatio: number;
  /** The anomaly gauges; undefined when the budget's anomaly detection is off. */
  readonly anomaly: { readonly active: boolean; readonly ratio: number } | undefined;
}

/** The period containing `asOfMs`, and from when the spend must be read: the period and the forecast's history. */
export function budgetReach(rule: BudgetRule, asOfMs: number): { period: Period; fromMs: number } {
  const period = periodAt(rule.period, rule.timeZone, asOfMs);
  return { period, fromMs: Math.min(period.startMs, floorHour(asOfMs) - FORECAST_LOOKBACK_MS) };
}

/** The threshold memory a budget status holds; undefined when it holds none that can be read. */
export function thresholdMemoryOf(status: BudgetStatus | undefined): ThresholdMemory | undefined {
  const periodStartMs = status ? Date.parse(status.periodStart) : NaN;
  if (!Number.isFinite(periodStartMs)) return undefined;
  const read = (text: string | undefined) => (text === undefined ? NaN : Date.parse(text));
  const exceededAtMs = read(status?.exceededAt);
  const anomalySinceMs = read(status?.anomalySince);
  return {
    periodStartMs,
    last: status?.lastThresholdCrossed,
    ...(Number.isFinite(exceededAtMs) ? { exceededAtMs } : {}),
    ...(Number.isFinite(anomalySinceMs) ? { anomalySinceMs } : {}),
  };
}

export function planBudget(view: BudgetView): BudgetPlan {
  const { rule, asOfMs } = view;
  const amount = parseMoney(rule.amount);
  const { period } = budgetReach(rule, asOfMs);
  const spent = spendBetween(view.series, period.startMs, asOfMs, asOfMs);
  const forecast = forecastSpend({ nowMs: asOfMs, periodEndMs: period.endMs, spent, amount, series: view.series });
  const outcome = crossThresholds(rule.alertAt, amount, spent, period.startMs, view.previous);
  const exceededAtMs = exceededSince(view.previous, period.startMs, spent >= amount, asOfMs);
  const anomaly = rule.anomaly?.enabled === false ? undefined : readAnomaly(anomalyInput(rule, asOfMs, view.series));
  // An episode lasts while the hour stays anomalous, across periods and restarts (the status keeps its start).
  const anomalySinceMs = anomaly?.anomalous ? (view.previous?.anomalySinceMs ?? asOfMs) : undefined;
  const status: BudgetStatus = {
    periodStart: rfc3339(period.startMs),
    periodEnd: rfc3339(period.endMs),
    accountedUntil: rfc3339(asOfMs),
    spent: formatMoney(spent, SPENT_DIGITS),
    percent: percentOf(spent, amount),
    forecast: formatMoney(forecast.total, CENT_DIGITS),
    forecastPercent: percentOf(forecast.total, amount),
    ...(forecast.crossingMs === undefined ? {} : { forecastCrossingTime: rfc3339(ceilSecond(forecast.crossingMs)) }),
    ...(outcome.last === undefined ? {} : { lastThresholdCrossed: outcome.last }),
    ...(anomalySinceMs === undefined ? {} : { anomalySince: rfc3339(anomalySinceMs) }),
    ...(anomaly ? { lastHourSpend: formatMoney(anomaly.lastHour, CENT_DIGITS) } : {}),
    ...(anomaly?.baseline === undefined ? {} : { baselinePerHour: formatMoney(anomaly.baseline, CENT_DIGITS) }),
    ...(exceededAtMs === undefined ? {} : { exceededAt: rfc3339(exceededAtMs) }),
  };
  const say = (threshold: number) => message(view, status, spent, threshold);
  const anomalyEvents: BudgetEvent[] =
    anomaly?.anomalous && view.previous?.anomalySinceMs === undefined
      ? [{ reason: ANOMALY, threshold: 0, message: anomalyMessage(view, anomaly) }]
      : [];
  return {
    status,
    memory: { periodStartMs: period.startMs, last: outcome.last, exceededAtMs, anomalySinceMs },
    events: [
      ...outcome.crossed.map((t): BudgetEvent => ({
        reason: t >= 100 ? EXCEEDED : THRESHOLD_CROSSED,
        threshold: t,
        message: say(t),
      })),
      ...anomalyEvents,
    ],
    namespaces: topNamespaces(view.namespaces),
    spentRatio: ratio(spent, amount),
    forecastRatio: ratio(forecast.total, amount),
    anomaly: anomaly ? { active: anomaly.anomalous, ratio: anomaly.ratio } : undefined,
  };
}

function anomalyInput(rule: BudgetRule, nowMs: number, series: ReadonlyMap<number, Nanos>): AnomalyInput {
  const a = rule.anomaly;
  return {
    nowMs,
    series,
    factor: parseMoney(a?.factor ?? DEFAULT_ANOMALY_FACTOR),
    minimumPerHour: parseMoney(a?.minimumPerHour ?? DEFAULT_ANOMALY_MINIMUM),
    planned: (a?.planned ?? []).map((p) => ({ startMs: Date.parse(p.start), endMs: Date.parse(p.end) })),
  };
}

const DEFAULT_ANOMALY_FACTOR = '2';
const DEFAULT_ANOMALY_MINIMUM = '1';

/**
 * e.g. "team-research: spend anomaly: 12.40 USD in the last hour, 4.1 times its baseline of 3.02 USD an hour
 * (the same hour of the week over 4 weeks); anomaly factor 2".
 */
function anomalyMessage(view: BudgetView, a: AnomalyReading): string {
  const { currency, policy, rule } = view;
  const baseline = a.baseline ?? 0n;
  const times =
    baseline === 0n ? 'against' : `${formatMoney(divRoundHalfUp(a.lastHour * NANOS_PER_UNIT, baseline), 1)} times`;
  const how =
    a.method === 'same-hour-of-week'
      ? `the same hour of the week over ${String(a.weeks)} week${a.weeks === 1 ? '' : 's'}`
      : 'the median of the last 24 hours';
  return `${policy}: spend anomaly: ${formatMoney(a.lastHour, CENT_DIGITS)} ${currency} in the last hour, ${times} its baseline of ${formatMoney(baseline, CENT_DIGITS)} ${currency} an hour (${how}); anomaly factor ${rule.anomaly?.factor ?? DEFAULT_ANOMALY_FACTOR}`;
}

/**
 * e.g. "team-research: 80 % of the monthly budget of 1500.00 USD reached: 1203.42 USD spent since
 * 2026-11-01T00:00:00Z, forecast 1650.00 USD by 2026-12-01T00:00:00Z".
 */
function message(view: BudgetView, status: BudgetStatus, spent: Nanos, threshold: number): string {
  const { rule, currency, policy } = view;
  const noun = periodNoun(rule.period);
  const budget = `${threshold} % of the ${noun}ly budget of ${rule.amount} ${currency}`;
  return `${policy}: ${budget} reached: ${formatMoney(spent, CENT_DIGITS)} ${currency} spent since ${status.periodStart}, forecast ${status.forecast} ${currency} by ${status.periodEnd}`;
}

/**
 * When the budget was exceeded: kept from the status within its period (so workloads created since stay new
 * after a restart), now when the spend has just reached the amount, none while it is under (an edit of the
 * amount or the scope lifts it).
 */
export function exceededSince(
  previous: ThresholdMemory | undefined,
  periodStartMs: number,
  exceeded: boolean,
  asOfMs: number,
): number | undefined {
  if (!exceeded) return undefined;
  const kept = previous?.periodStartMs === periodStartMs ? previous.exceededAtMs : undefined;
  return kept !== undefined && kept >= periodStartMs && kept <= asOfMs ? kept : asOfMs;
}

function percentOf(part: Nanos, whole: Nanos): number {
  return Number((part * 100n) / whole);
}

/** A float for a gauge, from exact integers: millionths are plenty for an alert on a ratio. */
function ratio(part: Nanos, whole: Nanos): number {
  return Number((part * 1_000_000n) / whole) / 1_000_000;
}

function ceilSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

function topNamespaces(spend: ReadonlyMap<string, Nanos>): string[] {
  return [...spend]
    .filter(([, cost]) => cost > 0n)
    .sort(([a, x], [b, y]) => (x > y ? -1 : x < y ? 1 : a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_NAMESPACE_EVENTS)
    .map(([namespace]) => namespace);
}
