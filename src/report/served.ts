/**
 * What inference workloads served, in `aicost report --by model` (issue #17; docs/unit-economics.md#per-model):
 * per report row, the tokens and requests the ledger rows counted and the cost per million tokens and per
 * thousand requests they make.
 *
 * A figure divides only the cost of the rows that counted what it divides by: a Job labelled with a model (a
 * fine-tune, say) adds to the row's cost but counts no tokens, and must not make the model's tokens look dearer;
 * Triton counts requests but no tokens. So the tokens' cost is that of the rows with both prompt and generated
 * tokens, the requests' cost that of the rows with requests. That cost is the endpoint's own (its idle time
 * included, the allocation basis); with --idle share the row's cost also holds a share of the cluster's
 * unrequested capacity, which the figures leave out, as the annotations do.
 */
import { divRoundHalfUp } from '../cost/money.ts';
import type { LedgerRow } from '../ledger/row.ts';

/** The --by key whose report carries these columns. */
export const SERVED_KEY = 'model';

export interface Served {
  /** The cost of the rows that counted prompt and generated tokens, and those tokens; null: no row counted. */
  readonly tokenCost: bigint;
  readonly promptTokens: bigint | null;
  readonly generatedTokens: bigint | null;
  /** The cost of the rows that counted requests, and those requests; null: no row counted. */
  readonly requestCost: bigint;
  readonly requests: bigint | null;
}

export const NOTHING_SERVED: Served = {
  tokenCost: 0n,
  promptTokens: null,
  generatedTokens: null,
  requestCost: 0n,
  requests: null,
};

/** Whether a report by these keys carries the served columns. */
export function withServed(by: readonly string[]): boolean {
  return by.includes(SERVED_KEY);
}

/** A ledger row's part: tokens only when it counted both kinds (their sum is what a token's cost divides). */
export function servedOf(row: LedgerRow): Served {
  const tokens = row.promptTokens !== undefined && row.generatedTokens !== undefined;
  return {
    tokenCost: tokens ? row.cost : 0n,
    promptTokens: tokens ? (row.promptTokens ?? null) : null,
    generatedTokens: tokens ? (row.generatedTokens ?? null) : null,
    requestCost: row.requests === undefined ? 0n : row.cost,
    requests: row.requests ?? null,
  };
}

const plus = (a: bigint | null, b: bigint | null): bigint | null => (a === null ? b : b === null ? a : a + b);

export function addServed(a: Served, b: Served): Served {
  return {
    tokenCost: a.tokenCost + b.tokenCost,
    promptTokens: plus(a.promptTokens, b.promptTokens),
    generatedTokens: plus(a.generatedTokens, b.generatedTokens),
    requestCost: a.requestCost + b.requestCost,
    requests: plus(a.requests, b.requests),
  };
}

export interface UnitFigures {
  /** Nano-units per million tokens (prompt + generated); null when no tokens were counted, or none served. */
  readonly perMillionTokens: bigint | null;
  /** Nano-units per thousand requests; null when no requests were counted, or none served. */
  readonly perThousandRequests: bigint | null;
}

/** cost × 10^6 / tokens and cost × 10^3 / requests, exact to the nano-unit, rounded half up. */
export function unitFigures(served: Served): UnitFigures {
  const tokens = plus(served.promptTokens, served.generatedTokens);
  return {
    perMillionTokens: tokens === null || tokens === 0n ? null : divRoundHalfUp(served.tokenCost * 1_000_000n, tokens),
    perThousandRequests:
      served.requests === null || served.requests === 0n
        ? null
        : divRoundHalfUp(served.requestCost * 1000n, served.requests),
  };
}
