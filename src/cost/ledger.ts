/**
 * The ledger format: the annotations the operator writes on Pods, Jobs, Deployments, StatefulSets and
 * Namespaces, and the ledger they persist. Cost and accounted-until are always written together in one patch,
 * so after a restart accrual resumes from accounted-until with exactly the cost accrued up to it: nothing is
 * counted twice and nothing is lost. The README's annotation reference documents each of them.
 *
 * It lives with the cost domain rather than with a reconciler because the runtime reads it too: the cache's
 * projections parse the ledger of every object they keep, and the accounting reconciler renders it.
 */
import { formatMoney, parseMoney, type Nanos } from './money.ts';

export const ANNOTATION = {
  cost: 'aicost.dev/cost',
  costPerHour: 'aicost.dev/cost-per-hour',
  gpuHours: 'aicost.dev/gpu-hours',
  idleGpuHours: 'aicost.dev/idle-gpu-hours',
  idleGpuCost: 'aicost.dev/idle-gpu-cost',
  gpuUtilization: 'aicost.dev/gpu-utilization',
  currency: 'aicost.dev/currency',
  accountedUntil: 'aicost.dev/accounted-until',
  spotSavings: 'aicost.dev/spot-savings',
} as const;

export const UNKNOWN = 'unknown';

/** Accrued totals of one object up to `accountedUntil` (epoch seconds). */
export interface Ledger {
  readonly cost: Nanos;
  readonly gpuSeconds: number;
  /** Idle GPU-seconds measured so far; undefined while nothing was measured. */
  readonly idleGpuSeconds: number | undefined;
  /** What those idle GPU-seconds cost; undefined while idleGpuSeconds is (see parseLedger). */
  readonly idleGpuCost: Nanos | undefined;
  readonly accountedUntil: number;
  readonly currency: string;
  /**
   * On-demand price of the time spent on spot nodes minus what it cost; undefined while the object never
   * ran on spot (then no aicost.dev/spot-savings annotation is written).
   */
  readonly spotSavings?: Nanos | undefined;
}

/** What one object shows besides its ledger: the current rate and the last window's utilization. */
export interface Display {
  readonly costPerHour: Nanos;
  /** Ratio 0..1 over the last window; undefined when unknown. */
  readonly utilization: number | undefined;
}

const COST_DIGITS = 6;
const HOURS_DIGITS = 4;

export function formatHours(seconds: number): string {
  return (seconds / 3600).toFixed(HOURS_DIGITS);
}

export function formatUtilization(ratio: number | undefined): string {
  return ratio === undefined ? UNKNOWN : String(Math.round(Math.min(1, Math.max(0, ratio)) * 100));
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * A time as the operator writes it, RFC 3339 in UTC (fractions accepted), in epoch milliseconds; undefined for
 * anything else, "3000" and rolled-over dates included (Date.parse takes both: "02-31" becomes March 3rd).
 */
export function parseRfc3339Ms(text: string | undefined): number | undefined {
  if (text === undefined || !RFC3339_UTC.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19) ? ms : undefined;
}

export function toRfc3339(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

export function renderAnnotations(ledger: Ledger, display: Display): Record<string, string> {
  const savings =
    ledger.spotSavings === undefined ? {} : { [ANNOTATION.spotSavings]: formatMoney(ledger.spotSavings, COST_DIGITS) };
  return {
    ...savings,
    [ANNOTATION.cost]: formatMoney(ledger.cost, COST_DIGITS),
    [ANNOTATION.costPerHour]: formatMoney(display.costPerHour, HOURS_DIGITS),
    [ANNOTATION.gpuHours]: formatHours(ledger.gpuSeconds),
    [ANNOTATION.idleGpuHours]: ledger.idleGpuSeconds === undefined ? UNKNOWN : formatHours(ledger.idleGpuSeconds),
    [ANNOTATION.idleGpuCost]: ledger.idleGpuCost === undefined ? UNKNOWN : formatMoney(ledger.idleGpuCost, COST_DIGITS),
    [ANNOTATION.gpuUtilization]: formatUtilization(display.utilization),
    [ANNOTATION.currency]: ledger.currency,
    [ANNOTATION.accountedUntil]: toRfc3339(ledger.accountedUntil),
  };
}

/** Reads a ledger back from annotations; undefined when absent or malformed (then accrual starts afresh). */
export function parseLedger(annotations: Readonly<Record<string, string>> | undefined): Ledger | undefined {
  const cost = annotations?.[ANNOTATION.cost];
  const until = annotations?.[ANNOTATION.accountedUntil];
  if (cost === undefined || until === undefined) return undefined;
  // Strict: the annotation is the operator's own format; anything else ("3000", a rolled-over date) is not.
  const untilMs = parseRfc3339Ms(until);
  if (untilMs === undefined) return undefined;
  let nanos: Nanos;
  try {
    nanos = parseMoney(cost);
  } catch {
    return undefined;
  }
  if (nanos < 0n) return undefined;
  const idleText = annotations?.[ANNOTATION.idleGpuHours];
  const idleGpuSeconds = idleText === UNKNOWN ? undefined : parseSeconds(idleText);
  return {
    cost: nanos,
    gpuSeconds: parseSeconds(annotations?.[ANNOTATION.gpuHours] ?? '0') ?? 0,
    idleGpuSeconds,
    // Known only with the idle GPU-hours it prices: an object written before this annotation existed starts
    // it at the next measurement.
    idleGpuCost: idleGpuSeconds === undefined ? undefined : parseAmount(annotations?.[ANNOTATION.idleGpuCost]),
    accountedUntil: Math.floor(untilMs / 1000),
    currency: annotations?.[ANNOTATION.currency] ?? 'USD',
    spotSavings: parseAmount(annotations?.[ANNOTATION.spotSavings]),
  };
}

/**
 * Hours written as a non-negative decimal ("12.3456"), in seconds; undefined when absent or malformed. Number()
 * alone would read "" and " " as 0, "0x10" as 16 and "1e308" as a number whose seconds are Infinity.
 */
function parseSeconds(text: string | undefined): number | undefined {
  return text !== undefined && parseAmount(text) !== undefined ? Number(text) * 3600 : undefined;
}

/** A non-negative decimal amount; undefined when absent or malformed. */
function parseAmount(text: string | undefined): Nanos | undefined {
  if (text === undefined) return undefined;
  try {
    const n = parseMoney(text);
    return n >= 0n ? n : undefined;
  } catch {
    return undefined;
  }
}
