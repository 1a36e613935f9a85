/**
 * Kubernetes resource quantities ("500m", "16Gi", "1.5", "2e3") read as exact integers: CPU in milli-units,
 * everything else (bytes, GPUs) in whole units, each rounded up the way the API server canonicalises
 * quantities. The arithmetic is done on the decimal digits in bigint, so nothing passes through a binary float;
 * a quantity whose integer does not fit a Number exactly (beyond 2^53 - 1) is a QuantityError, never a rounded
 * value: "1e30" bytes of memory must stop its node's accounting with a reason, not become some other number.
 */
const DECIMAL_EXPONENT: Readonly<Record<string, number>> = { '': 0, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_EXPONENT: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/;
/** Past this many decimal places either way the value is decided without computing 10^n. */
const MAX_EXPONENT = 64;
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** Longer text is no quantity a real spec holds: refused as too large before it is read. */
const MAX_QUANTITY_CHARS = 128;

/** A quantity that is well formed but too large to hold exactly. */
export class QuantityError extends RangeError {
  constructor(text: string, unit: string) {
    super(`quantity "${text}" is more than ${Number.MAX_SAFE_INTEGER} ${unit}, beyond exact integers`);
    this.name = 'QuantityError';
  }
}

/**
 * Quantity in milli-units ("500m" -> 500, "2" -> 2000). Undefined for text that is not a non-negative
 * quantity; throws QuantityError for one too large to hold exactly.
 */
export function parseMilli(text: string | undefined): number | undefined {
  return exactCeil(text, 3, 'milli-units');
}

/** Quantity in whole units, rounded up ("16Gi" -> 17179869184 bytes, "1500m" -> 2); as parseMilli otherwise. */
export function parseUnits(text: string | undefined): number | undefined {
  return exactCeil(text, 0, 'units');
}

/** ceil(quantity × 10^scale) as an exact integer Number (see parseMilli). */
function exactCeil(text: string | undefined, scale: number, unit: string): number | undefined {
  if (text === undefined) return undefined;
  // A creator may write a quantity of millions of digits; reading it is the BigInt work of that many.
  if (text.length > MAX_QUANTITY_CHARS) throw new QuantityError(`${text.slice(0, 24)}…`, unit);
  const trimmed = text.trim();
  const match = QUANTITY.exec(trimmed);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', exponent, suffix = ''] = match;
  if (whole === '' && fraction === '') return undefined;
  const mantissa = BigInt(`${whole}${fraction}` || '0');
  if (mantissa === 0n) return 0;
  // "-0.0000001" rounds up to 0, as the API server's canonical form does; any other negative is no quantity.
  const negative = sign === '-';
  const power = scale - fraction.length + (exponent === undefined ? (DECIMAL_EXPONENT[suffix] ?? 0) : Number(exponent));
  const binary = BigInt(BINARY_EXPONENT[suffix] ?? 0);
  if (power > MAX_EXPONENT) {
    if (negative) return undefined;
    throw new QuantityError(trimmed, unit);
  }
  // Below 10^-64 of a unit (the mantissa is under 10^digits): rounds up to 1, or to 0 when negative.
  if (power < -(whole.length + fraction.length + MAX_EXPONENT)) return negative ? 0 : 1;
  const numerator = (mantissa << binary) * (power > 0 ? 10n ** BigInt(power) : 1n);
  const denominator = power < 0 ? 10n ** BigInt(-power) : 1n;
  if (negative) return numerator / denominator === 0n ? 0 : undefined;
  const value = (numerator + denominator - 1n) / denominator;
  if (value > MAX_EXACT) throw new QuantityError(trimmed, unit);
  return Number(value);
}
