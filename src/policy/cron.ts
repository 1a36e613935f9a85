/**
 * Five-field cron expressions evaluated in an IANA time zone, as pure functions of a given instant, so
 * schedules are tested at fixed instants (including daylight-saving changes). The calendar walk is croner's:
 * it jumps field by field to the previous or next match instead of testing every minute, so a monthly or
 * yearly firing costs what an hourly one does, and how far back a firing is caught up is the caller's
 * choice (`windowMs`) rather than a limit on the cost.
 *
 * Daylight saving, as croner (and Vixie cron) does it: each time of day written as numbers (`30 2 * * *`,
 * `0 8,20 * * 1-5`) fires once on its day. In a spring-forward gap it fires at the first minute after the gap
 * (02:30 becomes 03:00); in a fall-back overlap it fires at the first occurrence only. An expression with
 * `*` or a step in its minute or hour (`0 * * * *`, `0-59/15 * * * *`) follows the clock instead: minutes in
 * the gap do not happen, and minutes in the overlap fire on both occurrences.
 */
import { Cron as Croner, type CronOptions } from 'croner';

/** A cron expression that parseCron accepted: five fields, or a macro such as @daily. */
export interface Cron {
  readonly expression: string;
}

const OPTIONS: Readonly<CronOptions> = { mode: '5-part', fixedTimeRule: 'no-wildcard' };

const DAY_MS = 86_400_000;
/** lastFire's window: a year and a day, so a yearly firing is caught up whenever it is evaluated. */
export const YEAR_WINDOW_MS = 367 * DAY_MS;

/** Per field: its name in messages and its bounds (7 is Sunday too). */
const FIELDS = [
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
] as const;

/** The field count and the numbers' bounds, with messages naming the field. */
function checkFields(expression: string, fields: readonly string[]): void {
  if (fields.length !== FIELDS.length)
    throw new Error(`cron "${expression}" must have five fields (minute hour day month weekday) or be a macro`);
  // croner would report a month of 13 as "month: 12" (it counts months from 0).
  FIELDS.forEach(([name, min, max], i) => {
    for (const item of (fields[i] ?? '').split(',')) {
      for (const bound of (item.split('/')[0] ?? '').split('-')) {
        if (/^\d+$/.test(bound) && (Number(bound) < min || Number(bound) > max))
          throw new Error(`cron "${expression}": ${name} ${bound} is out of range ${min}-${max}`);
      }
    }
  });
}

/** croner searches forward to the year 3000, so an expression that ever fires, fires after this. */
const SOME_INSTANT = new Date(Date.UTC(2000, 0, 1));

/**
 * Checks an expression and keeps it for previousFire and nextFire. Throws an Error saying what is wrong:
 * the policy controller puts the message in its Ready condition.
 */
export function parseCron(expression: string): Cron {
  return remember(parsedCrons, expression, () => parseCronUncached(expression));
}

function parseCronUncached(expression: string): Cron {
  const trimmed = expression.trim();
  if (!trimmed.startsWith('@')) checkFields(expression, trimmed.split(/\s+/));
  let parsed: Croner;
  try {
    parsed = new Croner(trimmed, { ...OPTIONS, timezone: 'UTC' });
  } catch (error) {
    // croner reads an unknown macro as a cron of one field and would say it wants five, six or seven.
    if (trimmed.startsWith('@'))
      throw new Error(`cron "${expression}" is not a macro such as @hourly, @daily, @weekly, @monthly or @yearly`, {
        cause: error,
      });
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new Error(`cron "${expression}": ${reason}`, { cause: error });
  }
  // "0 0 30 2 *" is well formed but never fires; croner would search centuries for it on every call.
  if (parsed.nextRun(SOME_INSTANT) === null)
    throw new Error(`cron "${expression}" never fires: none of its months has that day`);
  return { expression: trimmed };
}

export function isValidTimeZone(timeZone: string): boolean {
  return remember(timeZones, timeZone, () => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      return true;
    } catch {
      return false;
    }
  });
}

function job(cron: Cron | string, timeZone: string): Croner {
  const { expression } = typeof cron === 'string' ? parseCron(cron) : cron;
  return remember(jobs, `${expression}\0${timeZone}`, () => {
    // croner reads an empty time zone as the machine's own, so it is refused here rather than there.
    if (!isValidTimeZone(timeZone)) throw new Error(`unknown time zone "${timeZone}"`);
    return new Croner(expression, { ...OPTIONS, timezone: timeZone });
  });
}

/**
 * Parsing, time zone checks and croner's jobs are kept, and so is the last answer per expression and instant:
 * a policy pass asks the same schedule the same question for every endpoint it governs (about 0.1 ms each
 * otherwise, and a time zone check builds an Intl.DateTimeFormat). Policies are few; a full cache is emptied.
 */
const MAX_REMEMBERED = 512;
const parsedCrons = new Map<string, Cron | Error>();
const timeZones = new Map<string, boolean | Error>();
const jobs = new Map<string, Croner | Error>();
const previousFires = new Map<string, number | undefined | Error>();

function remember<T>(cache: Map<string, T | Error>, key: string, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined && !cache.has(key)) {
    try {
      value = make();
    } catch (error) {
      value = error instanceof Error ? error : new Error(String(error));
    }
    if (cache.size >= MAX_REMEMBERED) cache.clear();
    cache.set(key, value);
  }
  if (value instanceof Error) throw value;
  return value as T;
}

/**
 * The last firing at or before `nowMs`, if it is no more than `windowMs` before `nowMs`: the window says how
 * late a missed firing may still be acted on. Throws on an invalid expression or time zone.
 */
export function previousFire(
  cron: Cron | string,
  timeZone: string,
  nowMs: number,
  windowMs: number,
): number | undefined {
  if (!(windowMs >= 0)) throw new RangeError(`windowMs must be zero or more, not ${windowMs}`);
  const expression = typeof cron === 'string' ? cron : cron.expression;
  return remember(previousFires, `${expression}\0${timeZone}\0${String(nowMs)}\0${String(windowMs)}`, () => {
    // croner's previous run is strictly before its reference: one millisecond later makes `nowMs` count.
    const [fired] = job(cron, timeZone).previousRuns(1, new Date(nowMs + 1));
    return fired !== undefined && fired.getTime() >= nowMs - windowMs ? fired.getTime() : undefined;
  });
}

/** The first firing strictly after `nowMs` (a firing at `nowMs` is previousFire's), or undefined if none. */
export function nextFire(cron: Cron | string, timeZone: string, nowMs: number): number | undefined {
  return job(cron, timeZone).nextRun(new Date(nowMs))?.getTime();
}

/** previousFire under the policy controller's name, with a window of a year and a day by default. */
export function lastFire(cron: Cron, timeZone: string, nowMs: number, windowMs = YEAR_WINDOW_MS): number | undefined {
  return previousFire(cron, timeZone, nowMs, windowMs);
}
