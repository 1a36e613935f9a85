/**
 * The saving a policy realizes: what the workloads it holds off (Deployments and StatefulSets it scaled to
 * zero, Jobs it suspended) would cost awake. Once they are off their cost-per-hour is 0, so the operator
 * records, when it turns one off, what it cost per hour then (aicost.dev/cost-per-hour-before, beside
 * replicas-before): the saving for as long as it stays off, after a restart too.
 */
import { formatMoney, NANOS_PER_UNIT, parseMoney, type Nanos } from '../cost/money.ts';

export const COST_PER_HOUR_BEFORE = 'aicost.dev/cost-per-hour-before';
const REPLICAS_BEFORE = 'aicost.dev/replicas-before';
const PAUSED_VIA = 'aicost.dev/paused-via';

/** The annotation's text for an hourly cost: 6 decimals, as aicost.dev/cost. */
export function costPerHourBeforeText(costPerHour: Nanos): string {
  return formatMoney(costPerHour, 6);
}

export interface HeldOffView {
  readonly kind: 'Deployment' | 'StatefulSet' | 'Job' | 'Pod';
  readonly annotations: Readonly<Record<string, string>>;
  /** spec.replicas of a Deployment or StatefulSet. */
  readonly replicas: number | undefined;
  /** spec.suspend of a Job. */
  readonly suspended: boolean;
}

/**
 * The most one workload held off can save in an hour, 100,000 in its currency: over 1,500 of the catalog's
 * dearest GPU nodes. A larger recorded figure is not one the operator wrote.
 */
const MAX_SAVING_PER_HOUR: Nanos = 100_000n * NANOS_PER_UNIT;

/**
 * The hourly saving of a workload a policy holds off, or undefined when it is not held off (awake, woken,
 * scaled up by hand, resumed) or nothing was recorded when it was turned off. Under KEDA the ScaledObject is
 * paused at zero and the replica count follows it, so the pause itself is what holds it off.
 */
export function heldOffSavingPerHour(w: HeldOffView): Nanos | undefined {
  const text = w.annotations[COST_PER_HOUR_BEFORE];
  if (text === undefined) return undefined;
  const off =
    w.kind === 'Job'
      ? w.suspended
      : w.kind !== 'Pod' &&
        w.annotations[REPLICAS_BEFORE] !== undefined &&
        (w.annotations[PAUSED_VIA] === 'keda' || w.replicas === 0);
  if (!off) return undefined;
  let perHour: Nanos;
  try {
    perHour = parseMoney(text);
  } catch {
    return undefined; // edited by hand into something else: no figure rather than a guess
  }
  // The annotation is on the tenant's own workload: a negative or absurd figure is not shown as a saving.
  return perHour >= 0n && perHour <= MAX_SAVING_PER_HOUR ? perHour : undefined;
}
