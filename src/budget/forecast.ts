/**
 * The forecast of a budget's spend at the end of its period, as a pure function of the scope's hourly spend
 * (hourly.ts) and a given instant, in exact integers:
 *
 * - With a week and a day of history or more (spend that long before the current hour): hour-of-week
 *   seasonality times a run-rate. Each future hour gets the mean spend of the same hour of the week over the
 *   last k weeks (k = 1..4, as many as the history allows), times the ratio of the last 24 hours' spend to
 *   the spend of the same 24 hours in those k weeks (the run-rate; 1 when those had none). So a flat history
 *   forecasts its rate, a weekly pattern its pattern at today's level, and a growing one its latest level (a
 *   trend is not extrapolated further).
 * - With less (a new team): the run-rate from its first hour with spend to now, for the rest of the period.
 * - With no spend in the last five weeks: nothing more is forecast.
 *
 * The crossing time is when the spend so far plus the forecast reaches the amount, spending evenly within
 * each hour; none when the spend has reached it already or the forecast does not reach it in the period.
 */
import { divRoundHalfUp, type Nanos } from '../cost/money.ts';
import { firstSpendHour, floorHour, HOUR_MS, WEEK_MS } from './hourly.ts';

export type ForecastMethod = 'none' | 'run-rate' | 'seasonal';

export interface ForecastInput {
  /** Spend is known up to here. */
  readonly nowMs: number;
  readonly periodEndMs: number;
  /** Spend of the period up to nowMs. */
  readonly spent: Nanos;
  readonly amount: Nanos;
  /** The scope's spend by UTC hour over FORECAST_LOOKBACK_MS before nowMs's hour, and that hour up to nowMs. */
  readonly series: ReadonlyMap<number, Nanos>;
}

export interface Forecast {
  readonly method: ForecastMethod;
  /** Weeks of history behind the seasonal profile (0 otherwise). */
  readonly weeks: number;
  /** Forecast spend from nowMs to the period's end. */
  readonly rest: Nanos;
  /** spent + rest. */
  readonly total: Nanos;
  readonly crossingMs: number | undefined;
}

const MAX_WEEKS = 4;
const HOURS_PER_WEEK = 168;
const RECENT_HOURS = 24;
/**
 * How far before the current hour the forecast reads: the four weeks of the profile and the day before them,
 * and more, so that the first spend in it tells a scope four weeks old from a younger one whatever the hour
 * its spend starts each week.
 */
export const FORECAST_LOOKBACK_MS = (MAX_WEEKS + 1) * WEEK_MS;

/**
 * The spend rate of each future hour, as a fraction: the hour `offset` hours after the current hour's start
 * costs perHour(offset) / scale per hour.
 */
interface Rate {
  readonly perHour: (offset: number) => bigint;
  readonly scale: bigint;
}

export function forecastSpend(input: ForecastInput): Forecast {
  const { nowMs, series } = input;
  const hour = floorHour(nowMs);
  const first = firstSpendHour(series, hour - FORECAST_LOOKBACK_MS);
  // The last day is compared with the same day of each week used: a week and a day of history for one week.
  const history = first === undefined ? 0 : hour - RECENT_HOURS * HOUR_MS - first;
  const weeks = Math.min(MAX_WEEKS, Math.max(0, Math.floor(history / WEEK_MS)));
  const rate =
    first === undefined ? undefined : weeks > 0 ? seasonalRate(series, hour, weeks) : runRate(series, first, nowMs);
  if (!rate) return { method: 'none', weeks: 0, rest: 0n, total: input.spent, crossingMs: undefined };
  const { rest, crossingMs } = walk(input, hour, rate);
  return { method: weeks > 0 ? 'seasonal' : 'run-rate', weeks, rest, total: input.spent + rest, crossingMs };
}

function at(series: ReadonlyMap<number, Nanos>, hourMs: number): bigint {
  return series.get(hourMs) ?? 0n;
}

/**
 * Each future hour: the mean of the same hour of the week over the last `weeks` weeks, times the run-rate
 * ratio of the last 24 hours to the same 24 hours of those weeks (1 when those had no spend).
 */
function seasonalRate(series: ReadonlyMap<number, Nanos>, hour: number, weeks: number): Rate {
  const profile: bigint[] = [];
  for (let s = 0; s < HOURS_PER_WEEK; s++) profile.push(sameHourOfWeek(series, hour + s * HOUR_MS, weeks));
  let recent = 0n;
  let expected = 0n;
  for (let i = 1; i <= RECENT_HOURS; i++) {
    recent += at(series, hour - i * HOUR_MS);
    expected += sameHourOfWeek(series, hour - i * HOUR_MS, weeks);
  }
  const of = (offset: number) => profile[offset % HOURS_PER_WEEK] ?? 0n;
  return expected === 0n
    ? { perHour: of, scale: BigInt(weeks) }
    : { perHour: (offset) => of(offset) * recent, scale: expected };
}

/** The spend of the hour `weeks` weeks, each, before `hourMs`, summed. */
function sameHourOfWeek(series: ReadonlyMap<number, Nanos>, hourMs: number, weeks: number): bigint {
  let sum = 0n;
  for (let j = 1; j <= weeks; j++) sum += at(series, hourMs - j * WEEK_MS);
  return sum;
}

/** The mean rate since the first hour with spend (a new team's history). */
function runRate(series: ReadonlyMap<number, Nanos>, first: number, nowMs: number): Rate | undefined {
  const spanMs = nowMs - first;
  if (spanMs <= 0) return undefined;
  let spend = 0n;
  for (const [h, cost] of series) if (h >= first && h < nowMs) spend += cost;
  return { perHour: () => spend * BigInt(HOUR_MS), scale: BigInt(spanMs) };
}

/**
 * Adds up the rate over the pieces of hours from nowMs to the period's end, in units of 1 / (scale × 1 h),
 * and finds the millisecond at which the spend reaches the amount.
 */
function walk(input: ForecastInput, hour: number, rate: Rate): { rest: Nanos; crossingMs: number | undefined } {
  const { nowMs, periodEndMs, spent, amount } = input;
  const unit = rate.scale * BigInt(HOUR_MS);
  const target = spent < amount ? (amount - spent) * unit : undefined;
  let sum = 0n;
  let crossingMs: number | undefined;
  for (let offset = 0; hour + offset * HOUR_MS < periodEndMs; offset++) {
    const from = Math.max(nowMs, hour + offset * HOUR_MS);
    const to = Math.min(periodEndMs, hour + (offset + 1) * HOUR_MS);
    if (to <= from) continue;
    const perMs = rate.perHour(offset);
    const piece = perMs * BigInt(to - from);
    if (crossingMs === undefined && target !== undefined && perMs > 0n && sum + piece >= target)
      crossingMs = from + Number((target - sum + perMs - 1n) / perMs);
    sum += piece;
  }
  return { rest: divRoundHalfUp(sum, unit), crossingMs };
}
