/**
 * A budget's period as a pure function of an instant: weeks start on Monday at 00:00 and months on the 1st at
 * 00:00, in the budget's IANA time zone, so a team in Paris gets its week from its own Monday midnight. The
 * calendar walk (and daylight saving: a week with the spring change is 167 hours long, one with the autumn
 * change 169) is croner's, through the same helpers as the wake and sleep schedules (cron.ts).
 */
import { isValidTimeZone, nextFire, previousFire } from '../policy/cron.ts';

export type PeriodKind = 'Weekly' | 'Monthly';

/** [startMs, endMs): the period's first instant and the next period's first instant. */
export interface Period {
  readonly startMs: number;
  readonly endMs: number;
}

/** The period boundaries as cron expressions: Monday 00:00, the 1st 00:00. */
const BOUNDARY: Readonly<Record<PeriodKind, string>> = { Weekly: '0 0 * * 1', Monthly: '0 0 1 * *' };
/** The longest period and then some: a boundary is always found within it. */
const SEARCH_MS = 33 * 86_400_000;

/** Why a time zone cannot be used for a budget, or undefined. */
export function periodProblem(timeZone: string): string | undefined {
  return isValidTimeZone(timeZone) ? undefined : `unknown time zone "${timeZone}"`;
}

/** The period containing `nowMs` (a boundary instant starts its period). Throws on an unknown time zone. */
export function periodAt(kind: PeriodKind, timeZone: string, nowMs: number): Period {
  const expression = BOUNDARY[kind];
  const startMs = previousFire(expression, timeZone, nowMs, SEARCH_MS);
  const endMs = nextFire(expression, timeZone, nowMs);
  if (startMs === undefined || endMs === undefined)
    throw new Error(`no ${kind} period boundary around ${new Date(nowMs).toISOString()} in ${timeZone}`);
  return { startMs, endMs };
}

/** The period's name in messages: "week" or "month". */
export function periodNoun(kind: PeriodKind): string {
  return kind === 'Weekly' ? 'week' : 'month';
}
