/**
 * Which ledgers read from annotations may be believed (issue #19). Annotations are on objects a tenant may
 * edit, so a value is taken only when it is plausible: accounted-until a strict RFC 3339 time not in the
 * future, a cost that is not negative and under a sane bound, the pricing's currency. The durable ledger
 * imports opening balances this way once (on a first start with an empty ledger), and the accountant adopts
 * the display ledgers of objects the ledger has no rows for (a workload's pods, namespaces) the same way.
 */
import { ANNOTATION, type Ledger } from '../cost/ledger.ts';
import { NANOS_PER_UNIT } from '../cost/money.ts';

/** No single object's accrued cost is believed above a hundred million (of any currency unit). */
export const MAX_IMPORTED_COST = 100_000_000n * NANOS_PER_UNIT;

const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export function isStrictRfc3339(text: string): boolean {
  const m = RFC_3339.exec(text);
  if (!m) return false;
  const [, year, month, day, hour, minute, second] = m.map(Number);
  const date = new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 0));
  // Date.parse accepts 2026-02-30; the calendar does not.
  return (
    Number.isFinite(Date.parse(text)) &&
    date.getUTCMonth() === (month ?? 1) - 1 &&
    date.getUTCDate() === day &&
    (hour ?? 0) < 24 &&
    (minute ?? 0) < 60 &&
    (second ?? 0) < 60
  );
}

/**
 * Why a ledger read from annotations must not be believed; undefined when it may. `annotations` are the raw
 * ones it was parsed from, when the cache keeps them (for the strict time format).
 */
export function annotationLedgerProblem(
  ledger: Ledger,
  annotations: Readonly<Record<string, string>> | undefined,
  nowSeconds: number,
  currency: string,
): string | undefined {
  const until = annotations?.[ANNOTATION.accountedUntil];
  if (until !== undefined && !isStrictRfc3339(until))
    return `${ANNOTATION.accountedUntil} ${JSON.stringify(until)} is not an RFC 3339 time`;
  if (ledger.accountedUntil > nowSeconds) return `${ANNOTATION.accountedUntil} is in the future`;
  if (ledger.cost < 0n || ledger.cost > MAX_IMPORTED_COST) return `${ANNOTATION.cost} is out of bounds`;
  if (ledger.currency !== currency) return `${ANNOTATION.currency} ${ledger.currency} is not the pricing's ${currency}`;
  return undefined;
}
