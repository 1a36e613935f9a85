/**
 * When the policies' wake and sleep schedules next fire: the policy controller asks to be reconciled then
 * (requeueAfter), so a schedule acts at its minute rather than at the next accounting interval, with no timer
 * of its own. An expression or time zone that cannot run is skipped here; the policy's Ready condition says
 * why (scheduleProblem).
 */
import { isValidTimeZone, nextFire, parseCron } from './cron.ts';

export interface WakeSchedule {
  readonly wake?: string | undefined;
  readonly sleep?: string | undefined;
  readonly timeZone: string;
}

/** Why a cron expression or time zone cannot be used, or undefined. */
export function scheduleProblem(expression: string, timeZone: string): string | undefined {
  if (!isValidTimeZone(timeZone)) return `unknown time zone "${timeZone}"`;
  try {
    parseCron(expression);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** The earliest firing strictly after `nowMs` of any valid expression of the schedules, or undefined. */
export function nextScheduleFireMs(schedules: readonly WakeSchedule[], nowMs: number): number | undefined {
  let earliest: number | undefined;
  for (const s of schedules) {
    for (const expression of [s.wake, s.sleep]) {
      if (expression === undefined || scheduleProblem(expression, s.timeZone) !== undefined) continue;
      const at = nextFire(expression, s.timeZone, nowMs);
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
  }
  return earliest;
}
