/**
 * The budgets of a policy pass (rules.budget): for each valid budget, its scope's spend (budget-spend.ts), then
 * its plan (budget/plan-budget.ts: status, thresholds crossed, forecast), and the gauges
 * aicost_budget_spent_ratio and aicost_budget_forecast_ratio. The policy controller writes the status and,
 * once it is written, gives the Events: a crash between the two loses an Event rather than repeating it.
 *
 * Which threshold was announced last comes from the policy's status, or from this leader's own last write
 * while the policy cache may not show it yet; a new leader starts from the status.
 */
import type { Logger } from 'pino';
import { formatMoney, parseMoney } from '../cost/money.ts';
import { modeOf, type Mode } from '../policy/match.ts';
import type { ExceededBudget } from '../policy/plan-budget-sleep.ts';
import { errorSummary } from '../controller/errors.ts';
import type { Metrics } from '../controller/metrics.ts';
import { budgetReach, planBudget, thresholdMemoryOf, type BudgetPlan } from '../budget/plan-budget.ts';
import { periodProblem } from '../budget/period.ts';
import type { ThresholdMemory } from '../budget/thresholds.ts';
import type { PolicyRecord } from '../crds/policy-record.ts';
import type { RecentWindows } from '../ledger/accrual.ts';
import type { BudgetScope, BudgetSpend } from './budget-spend.ts';

export interface PolicyBudgetsDeps {
  readonly spend: BudgetSpend;
  /** The accountant's windows in memory; undefined until its first cycle (then budgets wait a pass). */
  readonly recent: () => RecentWindows | undefined;
  readonly log: Logger;
  readonly metrics?: Metrics | undefined;
}

type Budgeted = PolicyRecord & { readonly spec: NonNullable<PolicyRecord['spec']> };

export class PolicyBudgets {
  private readonly deps: PolicyBudgetsDeps;
  /** By policy name: what this leader wrote last, for the policy of that uid (not one re-created since). */
  private readonly written = new Map<string, { readonly uid: string; readonly memory: ThresholdMemory }>();
  private readonly gauged = new Set<string>();

  constructor(deps: PolicyBudgetsDeps) {
    this.deps = deps;
  }

  reset(): void {
    this.written.clear();
    this.deps.spend.reset();
  }

  /**
   * A plan per budget evaluated this pass. A budget without one (no accounting cycle yet, the ledger
   * unreadable) keeps the status.budget it has.
   */
  async plan(policies: readonly PolicyRecord[], currency: string, nowMs: number): Promise<Map<string, BudgetPlan>> {
    const budgeted = policies.filter(
      (p): p is Budgeted =>
        p.spec?.rules.budget !== undefined && periodProblem(p.spec.rules.budget.timeZone) === undefined,
    );
    this.dropGauges(new Set(budgeted.map((p) => p.name)));
    const plans = new Map<string, BudgetPlan>();
    // Asked only with a budget to plan: the open window's rows are built afresh for it (every target's row).
    if (budgeted.length === 0) return plans;
    const recent = this.deps.recent();
    if (!recent) return plans;
    const asOfMs = recent.throughMs;
    const scopes: BudgetScope[] = budgeted.map((p) => {
      const { period, fromMs } = budgetReach(ruleOf(p), asOfMs);
      return { policy: p.name, spec: p.spec, fromMs, periodStartMs: period.startMs };
    });
    let spend;
    try {
      spend = await this.deps.spend.spend(scopes, recent, currency, nowMs);
    } catch (error) {
      this.deps.log.warn({ err: errorSummary(error) }, 'could not read the ledger for budgets; trying again next pass');
      return plans;
    }
    for (const p of budgeted) {
      const s = spend.get(p.name);
      if (!s) continue;
      const mine = this.written.get(p.name);
      const previous = mine?.uid === p.uid ? mine.memory : thresholdMemoryOf(p.status?.budget);
      const plan = planBudget({ policy: p.name, rule: ruleOf(p), currency, asOfMs, ...s, previous });
      plans.set(p.name, plan);
      this.deps.metrics?.budgetSpentRatio.set({ policy: p.name }, plan.spentRatio);
      this.deps.metrics?.budgetForecastRatio.set({ policy: p.name }, plan.forecastRatio);
      if (plan.anomaly) {
        this.deps.metrics?.budgetAnomaly.set({ policy: p.name }, plan.anomaly.active ? 1 : 0);
        this.deps.metrics?.budgetSpendRateRatio.set({ policy: p.name }, plan.anomaly.ratio);
      } else {
        this.deps.metrics?.budgetAnomaly.remove({ policy: p.name });
        this.deps.metrics?.budgetSpendRateRatio.remove({ policy: p.name });
      }
      this.gauged.add(p.name);
    }
    return plans;
  }

  /** The status holding `plan` was written: its thresholds are announced. */
  statusWritten(policy: PolicyRecord, plan: BudgetPlan): void {
    this.written.set(policy.name, { uid: policy.uid, memory: plan.memory });
  }

  /** Removes the gauges of policies that no longer have a budget. */
  private dropGauges(keep: ReadonlySet<string>): void {
    for (const policy of this.gauged) {
      if (keep.has(policy)) continue;
      this.deps.metrics?.budgetSpentRatio.remove({ policy });
      this.deps.metrics?.budgetForecastRatio.remove({ policy });
      this.deps.metrics?.budgetAnomaly.remove({ policy });
      this.deps.metrics?.budgetSpendRateRatio.remove({ policy });
      this.gauged.delete(policy);
      this.written.delete(policy);
    }
  }
}

/**
 * The budgets whose ScaleDevToZero applies now, by policy name: exceeded this period (status.budget.exceededAt,
 * from this pass's plan or else a status of the policy's current generation) and the period not over. The policy pass puts the endpoints in
 * their scope to sleep (policy/plan-budget-sleep.ts).
 */
export function budgetsToSleep(
  policies: Iterable<PolicyRecord>,
  plans: ReadonlyMap<string, BudgetPlan>,
  nowMs: number,
  defaultMode: Mode,
  currency: string,
): Map<string, ExceededBudget> {
  const out = new Map<string, ExceededBudget>();
  for (const p of policies) {
    const rule = p.spec?.rules.budget;
    if (!p.spec || !rule?.onExceeded.includes('ScaleDevToZero')) continue;
    // This pass's plan is of the current spec; a status of another generation (just edited) is not.
    const status =
      plans.get(p.name)?.status ?? (p.status?.observedGeneration === p.generation ? p.status.budget : undefined);
    const exceededAtMs = status?.exceededAt === undefined ? NaN : Date.parse(status.exceededAt);
    if (!status || !Number.isFinite(exceededAtMs) || !(Date.parse(status.periodEnd) > nowMs)) continue;
    out.set(p.name, {
      policy: p.name,
      mode: modeOf(p.spec, 'budget', defaultMode),
      exceededAtMs,
      spent: formatMoney(parseMoney(status.spent), 2),
      amount: rule.amount,
      currency,
    });
  }
  return out;
}

function ruleOf(p: Budgeted): NonNullable<Budgeted['spec']['rules']['budget']> {
  const rule = p.spec.rules.budget;
  if (!rule) throw new Error(`policy ${p.name} has no budget`);
  return rule;
}
