/**
 * What decides whether the accounting reconciler writes an object's ledger annotations (src/cost/ledger.ts)
 * again: the display key.
 */
import { formatMoney, mulDivToNumber, type Nanos } from '../cost/money.ts';
import { formatUtilization, UNKNOWN, type Display, type Ledger } from '../cost/ledger.ts';

/** An amount in whole cents, rounded half up: the key's form of "changed at two decimals", cheaper to build. */
function cents(nanos: Nanos): string {
  const exact = mulDivToNumber(nanos, 1, 10_000_000);
  return exact === undefined ? formatMoney(nanos, 2) : String(exact);
}

/** Seconds in hundredths of an hour. */
function hundredthsOfHours(seconds: number): string {
  return String(Math.round(seconds / 36));
}

/**
 * What decides whether a write is worth it: cost, idle GPU cost and rate to the cent, hours to the hundredth, utilization to
 * the percent. accounted-until alone never causes a write. Computed from the values, not from rendered
 * strings: it runs for every object every cycle.
 */
export function displayKey(ledger: Ledger, display: Display): string {
  const idle = ledger.idleGpuSeconds === undefined ? UNKNOWN : hundredthsOfHours(ledger.idleGpuSeconds);
  const savings = ledger.spotSavings === undefined ? '' : cents(ledger.spotSavings);
  const idleCost = ledger.idleGpuCost === undefined ? UNKNOWN : cents(ledger.idleGpuCost);
  return `${savings}|${idleCost}|${cents(ledger.cost)}|${cents(display.costPerHour)}|${hundredthsOfHours(ledger.gpuSeconds)}|${idle}|${formatUtilization(display.utilization)}|${ledger.currency}`;
}
