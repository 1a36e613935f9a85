/**
 * Five-field cron expressions evaluated in an IANA time zone, as pure functions of time, so schedules are
 * tested at fixed instants (including daylight-saving changes). Only the question the operator asks is
 * answered: when did this schedule last fire at or before `now`?
 */
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const NAMES: Readonly<Record<string, number>> = {
  sun: 0,
  mon: 1,
  tue: 2,
  wed: 3,
  thu: 4,
  fri: 5,
  sat: 6,
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

export interface Cron {
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  readonly dayRestricted: boolean;
  readonly weekdayRestricted: boolean;
}

function field(text: string, min: number, max: number, what: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`invalid step in ${what} "${part}"`);
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = min;
      hi = max;
    } else {
      const [a = '', b] = range.split('-');
      lo = value(a, what);
      hi = b === undefined ? (stepText === undefined ? lo : max) : value(b, what);
    }
    if (what === 'weekday' && hi === 7) hi = 6; // 7 is Sunday too
    if (lo < min || hi > max || lo > hi) throw new Error(`${what} "${part}" is out of range ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
    if (what === 'weekday' && range.split('-').includes('7')) out.add(0);
  }
  return out;
}

function value(text: string, what: string): number {
  const named = NAMES[text.toLowerCase()];
  if (named !== undefined) return named;
  const n = Number(text);
  if (!Number.isInteger(n) || text === '') throw new Error(`invalid ${what} "${text}"`);
  return n === 7 && what === 'weekday' ? 0 : n;
}

export function parseCron(expression: string): Cron {
  const expanded = MACROS[expression.trim()] ?? expression.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${expression}" must have five fields (minute hour day month weekday)`);
  const [m = '', h = '', dom = '', mon = '', dow = ''] = parts;
  return {
    minutes: field(m, 0, 59, 'minute'),
    hours: field(h, 0, 23, 'hour'),
    days: field(dom, 1, 31, 'day'),
    months: field(mon, 1, 12, 'month'),
    weekdays: field(dow, 0, 6, 'weekday'),
    dayRestricted: dom !== '*',
    weekdayRestricted: dow !== '*',
  };
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(epochMs: number, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(epochMs)) parts[p.type] = p.value;
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: NAMES[(parts.weekday ?? '').toLowerCase()] ?? 0,
  };
}

export function matchesAt(cron: Cron, epochMs: number, timeZone: string): boolean {
  const t = wallClock(epochMs, timeZone);
  if (!cron.minutes.has(t.minute) || !cron.hours.has(t.hour) || !cron.months.has(t.month)) return false;
  // Standard cron: when both day fields are restricted, either may match.
  const dayOk = cron.days.has(t.day);
  const weekdayOk = cron.weekdays.has(t.weekday);
  if (cron.dayRestricted && cron.weekdayRestricted) return dayOk || weekdayOk;
  return dayOk && weekdayOk;
}

/** The last minute at or before `nowMs` at which the schedule fired, looking back at most `lookbackDays`. */
export function lastFire(cron: Cron, timeZone: string, nowMs: number, lookbackDays = 8): number | undefined {
  const start = Math.floor(nowMs / 60_000) * 60_000;
  for (let t = start; t > start - lookbackDays * 86_400_000; t -= 60_000) {
    if (matchesAt(cron, t, timeZone)) return t;
  }
  return undefined;
}
