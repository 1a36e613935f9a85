/**
 * A ledger target's cumulative totals: what a workload, a bare pod or a node's idle capacity has accrued up to
 * `accountedUntil`. A window's row is the difference of two of them (closing − opening), so writing a window
 * again replaces its rows and never adds to them; and a restart resumes from the last one written.
 *
 * Every summed figure is an integer in nano-units (money in nanos, GPU-hours in nano-hours), so differences and
 * sums are exact. The accountant's own cumulative (cost/ledger.ts's Ledger, shown in the annotations) converts
 * both ways; the utilization's two sums are the ledger's own (the window's mean is busy / measured).
 */
import type { Ledger } from '../cost/ledger.ts';
import type { Nanos } from '../cost/money.ts';
import type { NanoHours } from './row.ts';
import { accruedBefore } from './window-split.ts';

export interface Cumulative {
  readonly cost: Nanos;
  readonly gpuHours: NanoHours;
  /** Undefined while nothing was measured (unknown is never zero), as in the Ledger. */
  readonly idleGpuHours: NanoHours | undefined;
  readonly idleGpuCost: Nanos | undefined;
  /** On-demand equivalent minus cost; undefined while the target never ran on spot. */
  readonly spotSavings: Nanos | undefined;
  /** GPU-hours with a measured utilization, and the same hours weighted by it. */
  readonly measuredGpuHours: NanoHours;
  readonly busyGpuHours: NanoHours;
  /** Epoch seconds. */
  readonly accountedUntil: number;
  /**
   * What an inference workload served so far (served-cycle.ts), whole counts; undefined while nothing counted
   * it. Stored apart from the other figures (durable.ts), so that a reader of before reads the cumulatives.
   */
  readonly promptTokens?: bigint | undefined;
  readonly generatedTokens?: bigint | undefined;
  readonly requests?: bigint | undefined;
  /**
   * Storage cost accrued so far (issue #18), apart from `cost`: the target's shares of the claims its pods mounted,
   * or a claim's unattached seconds. Undefined while it has none; stored apart as the served counts are.
   */
  readonly storageCost?: Nanos | undefined;
}

/** The cumulative with `more` storage cost added to `previous`'s (none plus none stays none). */
export function withStorageCost(c: Cumulative, previous: Cumulative | undefined, more: Nanos | undefined): Cumulative {
  const before = previous?.storageCost;
  if (before === undefined && more === undefined) return c;
  return { ...c, storageCost: (before ?? 0n) + (more ?? 0n) };
}

/** The storage cost as JSON: a decimal string, or null when none. */
export function storageToJson(c: Cumulative): string | null {
  return c.storageCost === undefined ? null : c.storageCost.toString();
}

/** The cumulative with the storage cost storageToJson wrote (undefined or null: none); throws on anything else. */
export function withStorageJson(c: Cumulative, json: unknown): Cumulative {
  if (json === undefined || json === null) return c;
  if (typeof json !== 'string' || !/^\d{1,20}$/.test(json))
    throw new Error(`${JSON.stringify(json)} is not a storage cost`);
  return { ...c, storageCost: BigInt(json) };
}

export const SERVED_FIELDS = ['promptTokens', 'generatedTokens', 'requests'] as const;
type ServedField = (typeof SERVED_FIELDS)[number];

/** The cumulative with a cycle's counts added to `previous`'s (unknown plus unknown stays unknown). */
export function withServedCounts(
  c: Cumulative,
  previous: Cumulative | undefined,
  add: Partial<Record<ServedField, bigint | undefined>> | undefined,
): Cumulative {
  const out: { -readonly [F in ServedField]?: bigint } = {};
  for (const field of SERVED_FIELDS) {
    const before = previous?.[field];
    const more = add?.[field];
    if (before !== undefined || more !== undefined) out[field] = (before ?? 0n) + (more ?? 0n);
  }
  return { ...c, ...out };
}

/** A cumulative's counts as JSON (decimal strings, null unknown); undefined when it has none. */
export function servedToJson(c: Cumulative): (string | null)[] | undefined {
  if (SERVED_FIELDS.every((f) => c[f] === undefined)) return undefined;
  return SERVED_FIELDS.map((f) => c[f]?.toString() ?? null);
}

/** The cumulative with the counts servedToJson wrote; throws on anything else. */
export function withServedJson(c: Cumulative, json: unknown): Cumulative {
  if (json === undefined) return c;
  if (!Array.isArray(json) || json.length !== SERVED_FIELDS.length)
    throw new Error(`served counts are an array of ${SERVED_FIELDS.length} values`);
  const out: { -readonly [F in ServedField]?: bigint } = {};
  SERVED_FIELDS.forEach((field, i) => {
    const v: unknown = json[i];
    if (v === null) return;
    if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw new Error(`${JSON.stringify(v)} is not a count`);
    out[field] = BigInt(v);
  });
  return { ...c, ...out };
}

export const ZERO: Cumulative = {
  cost: 0n,
  gpuHours: 0n,
  idleGpuHours: undefined,
  idleGpuCost: undefined,
  spotSavings: undefined,
  measuredGpuHours: 0n,
  busyGpuHours: 0n,
  accountedUntil: 0,
};

type Summed = Exclude<keyof Cumulative, 'accountedUntil'>;

/** Seconds (a float, as the accountant keeps them) to nano-hours, rounded once. */
export function nanoHours(seconds: number): NanoHours {
  return BigInt(Math.round((seconds * 1e9) / 3600));
}

/** Nano-hours back to seconds (a float). */
export function toSeconds(hours: NanoHours): number {
  return (Number(hours) * 3600) / 1e9;
}

/** The accountant's ledger as a cumulative; the utilization sums are carried on from `previous`, plus this cycle's. */
export function fromLedger(
  ledger: Ledger,
  previous: Cumulative | undefined,
  measuredGpuSeconds = 0,
  busyGpuSeconds = 0,
): Cumulative {
  return {
    cost: ledger.cost,
    gpuHours: nanoHours(ledger.gpuSeconds),
    idleGpuHours: ledger.idleGpuSeconds === undefined ? undefined : nanoHours(ledger.idleGpuSeconds),
    idleGpuCost: ledger.idleGpuCost,
    spotSavings: ledger.spotSavings,
    measuredGpuHours: (previous?.measuredGpuHours ?? 0n) + nanoHours(measuredGpuSeconds),
    busyGpuHours: (previous?.busyGpuHours ?? 0n) + nanoHours(busyGpuSeconds),
    accountedUntil: ledger.accountedUntil,
  };
}

/** The accountant's ledger from a cumulative (on a start or a leader change). */
export function toLedger(c: Cumulative, currency: string): Ledger {
  return {
    cost: c.cost,
    gpuSeconds: toSeconds(c.gpuHours),
    idleGpuSeconds: c.idleGpuHours === undefined ? undefined : toSeconds(c.idleGpuHours),
    idleGpuCost: c.idleGpuCost,
    accountedUntil: c.accountedUntil,
    currency,
    spotSavings: c.spotSavings,
  };
}

/**
 * The cumulative at `atSeconds` on the way from `from` to `to`, each figure accrued evenly over
 * [from.accountedUntil, to.accountedUntil) and rounded down (window-split.ts): `from` before the span, `to`
 * after it. A figure unknown at `to` stays unknown; one unknown at `from` starts from zero.
 */
export function cumulativeAt(from: Cumulative, to: Cumulative, atSeconds: number): Cumulative {
  const t0 = from.accountedUntil;
  const t1 = to.accountedUntil;
  if (atSeconds <= t0) return from;
  if (atSeconds >= t1) return to;
  const at = (field: Summed): bigint | undefined => {
    const end = to[field];
    if (end === undefined) return undefined;
    const start = from[field] ?? 0n;
    return start + accruedBefore(end - start, t0, t1, atSeconds);
  };
  return {
    cost: at('cost') ?? 0n,
    gpuHours: at('gpuHours') ?? 0n,
    idleGpuHours: at('idleGpuHours'),
    idleGpuCost: at('idleGpuCost'),
    spotSavings: at('spotSavings'),
    measuredGpuHours: at('measuredGpuHours') ?? 0n,
    busyGpuHours: at('busyGpuHours') ?? 0n,
    accountedUntil: atSeconds,
    ...Object.fromEntries(SERVED_FIELDS.flatMap((f) => (to[f] === undefined ? [] : [[f, at(f)]]))),
    ...(to.storageCost === undefined ? {} : { storageCost: at('storageCost') }),
  };
}

/** A window's figures: closing − opening, each at least zero (a cumulative never goes back; see docs/ledger.md). */
export interface WindowFigures {
  readonly cost: Nanos;
  readonly gpuHours: NanoHours;
  readonly idleGpuHours: NanoHours;
  readonly idleGpuCost: Nanos;
  readonly spotSavings: Nanos;
  readonly onDemandEquivalent: Nanos;
  /** busy / measured over the window; null when nothing was measured. */
  readonly utilization: number | null;
  /** Counted in the window; undefined when nothing counted it up to the window's end. */
  readonly promptTokens: bigint | undefined;
  readonly generatedTokens: bigint | undefined;
  readonly requests: bigint | undefined;
  /** Storage cost in the window; undefined when none (a row of no storage). */
  readonly storageCost: Nanos | undefined;
}

export function windowFigures(opening: Cumulative, closing: Cumulative): WindowFigures {
  const diff = (field: Summed) => {
    const d = (closing[field] ?? 0n) - (opening[field] ?? 0n);
    return d > 0n ? d : 0n;
  };
  const cost = diff('cost');
  const spotSavings = diff('spotSavings');
  const measured = diff('measuredGpuHours');
  const busy = diff('busyGpuHours');
  return {
    cost,
    gpuHours: diff('gpuHours'),
    idleGpuHours: diff('idleGpuHours'),
    idleGpuCost: diff('idleGpuCost'),
    spotSavings,
    onDemandEquivalent: cost + spotSavings,
    utilization: measured > 0n ? Math.min(1, Math.max(0, Number(busy) / Number(measured))) : null,
    promptTokens: closing.promptTokens === undefined ? undefined : diff('promptTokens'),
    generatedTokens: closing.generatedTokens === undefined ? undefined : diff('generatedTokens'),
    requests: closing.requests === undefined ? undefined : diff('requests'),
    storageCost: diff('storageCost') === 0n ? undefined : diff('storageCost'),
  };
}

/** A cumulative as JSON: integers as decimal strings, unknown as null, in a fixed order (bounded, ~100 bytes). */
export type CumulativeJson = [string, string, string | null, string | null, string | null, string, string, number];

export function cumulativeToJson(c: Cumulative): CumulativeJson {
  const s = (v: bigint | undefined) => (v === undefined ? null : v.toString());
  return [
    c.cost.toString(),
    c.gpuHours.toString(),
    s(c.idleGpuHours),
    s(c.idleGpuCost),
    s(c.spotSavings),
    c.measuredGpuHours.toString(),
    c.busyGpuHours.toString(),
    c.accountedUntil,
  ];
}

/** Throws on anything but what cumulativeToJson writes. */
export function cumulativeFromJson(json: unknown): Cumulative {
  if (!Array.isArray(json) || json.length !== 8) throw new Error('a cumulative is an array of 8 values');
  const big = (v: unknown, nullable: boolean): bigint | undefined => {
    if (v === null && nullable) return undefined;
    if (typeof v !== 'string' || !/^-?\d{1,20}$/.test(v)) throw new Error(`${JSON.stringify(v)} is not an integer`);
    return BigInt(v);
  };
  const [cost, gpu, idle, idleCost, spot, measured, busy, until] = json as unknown[];
  if (typeof until !== 'number' || !Number.isSafeInteger(until) || until < 0)
    throw new Error(`${JSON.stringify(until)} is not epoch seconds`);
  return {
    cost: big(cost, false) ?? 0n,
    gpuHours: big(gpu, false) ?? 0n,
    idleGpuHours: big(idle, true),
    idleGpuCost: big(idleCost, true),
    spotSavings: big(spot, true),
    measuredGpuHours: big(measured, false) ?? 0n,
    busyGpuHours: big(busy, false) ?? 0n,
    accountedUntil: until,
  };
}
