/**
 * Money is held as integer nano-units of a currency (1e-9), in bigint. Nano rather than micro because
 * accrual adds one rounded amount per pod per interval: at nano precision a month of one-minute intervals
 * drifts by at most 43,200 nano-units (0.0000432), far under a cent. Binary floats never touch money.
 */
export type Nanos = bigint;

export const NANOS_PER_UNIT = 1_000_000_000n;
const MAX_FRACTION_DIGITS = 9;
const DECIMAL = /^(-)?(\d{1,15})(?:\.(\d{1,9}))?$/;

/** Parses a decimal string such as "21.957642" into nano-units. Throws on anything else (no exponent, no floats). */
export function parseMoney(text: string): Nanos {
  const match = DECIMAL.exec(text.trim());
  if (!match) {
    throw new Error(
      `"${text}" is not a decimal amount (digits with at most ${MAX_FRACTION_DIGITS} decimals, e.g. "21.957642")`,
    );
  }
  const [, sign, whole = '0', fraction = ''] = match;
  const nanos = BigInt(whole) * NANOS_PER_UNIT + BigInt(fraction.padEnd(MAX_FRACTION_DIGITS, '0'));
  return sign ? -nanos : nanos;
}

/** 10^0 .. 10^9: formatting runs for every annotated object every cycle. */
const POWERS_OF_TEN = Array.from({ length: MAX_FRACTION_DIGITS + 1 }, (_, i) => 10n ** BigInt(i));

/** Formats nano-units as a decimal string with exactly `digits` decimals, rounding half away from zero. */
export function formatMoney(nanos: Nanos, digits = 6): string {
  if (digits < 0 || digits > MAX_FRACTION_DIGITS) throw new RangeError(`digits must be 0..${MAX_FRACTION_DIGITS}`);
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const step = POWERS_OF_TEN[MAX_FRACTION_DIGITS - digits] as bigint;
  const rounded = divRoundHalfUp(abs, step);
  const scale = POWERS_OF_TEN[digits] as bigint;
  const whole = rounded / scale;
  const fraction = rounded % scale;
  const text = digits === 0 ? whole.toString() : `${whole}.${fraction.toString().padStart(digits, '0')}`;
  return negative && rounded !== 0n ? `-${text}` : text;
}

/** a / b rounded half up, for non-negative a and positive b. */
export function divRoundHalfUp(a: bigint, b: bigint): bigint {
  return (a * 2n + b) / (b * 2n);
}

/**
 * amount × numerator / denominator rounded half up, for a non-negative amount, a non-negative integer
 * numerator and a positive integer denominator. Exact integer Numbers while the products stay under 2^53
 * (a pod's share of a node's hourly price, every pod every cycle), bigint otherwise.
 */
export function mulDivRoundHalfUp(amount: Nanos, numerator: number, denominator: number): Nanos {
  const q = mulDivToNumber(amount, numerator, denominator);
  return q === undefined ? divRoundHalfUp(amount * BigInt(numerator), BigInt(denominator)) : BigInt(q);
}

/**
 * The same as an exact integer Number, or undefined when it needs bigint (then call mulDivRoundHalfUp): for
 * callers that sum several results or print one and would otherwise make a bigint of each. Negative amounts
 * are left to bigint, whose rounding (toward zero after the half-up step) divRoundHalfUp has.
 */
export function mulDivToNumber(amount: Nanos, numerator: number, denominator: number): number | undefined {
  return amount >= 0n && amount <= MAX_SAFE_NANOS ? safeMulDiv(Number(amount), numerator, denominator) : undefined;
}

/**
 * The same on integer Numbers (amount a non-negative safe integer): the exact result, or undefined when a
 * product would leave the safe integers or an argument is not such an integer (then the caller uses bigint,
 * which rejects a non-integer).
 */
function safeMulDiv(amount: number, numerator: number, denominator: number): number | undefined {
  if (!(Number.isSafeInteger(amount) && Number.isSafeInteger(numerator) && Number.isSafeInteger(denominator)))
    return undefined;
  if (amount < 0 || numerator < 0 || denominator <= 0) return undefined;
  let a = amount * numerator;
  if (!(a <= Number.MAX_SAFE_INTEGER)) {
    // Shares are often simple fractions of large units (one GPU of eight, in 720,720 units per GPU).
    const g = gcd(numerator, denominator);
    numerator /= g;
    denominator /= g;
    a = amount * numerator;
  }
  if (!(a <= Number.MAX_SAFE_INTEGER && 2 * denominator <= Number.MAX_SAFE_INTEGER)) return undefined;
  const q = floorDiv(a, denominator);
  return 2 * (a - q * denominator) >= denominator ? q + 1 : q;
}

/**
 * floor(a / d) for a non-negative safe integer a and a positive safe integer d: the float quotient may be off
 * by one either way, and the remainder (exact in integers this small) puts it right.
 */
function floorDiv(a: number, d: number): number {
  const q = Math.floor(a / d);
  const r = a - q * d;
  return r < 0 ? q - 1 : r >= d ? q + 1 : q;
}

const MAX_SAFE_NANOS = BigInt(Number.MAX_SAFE_INTEGER);

/** Cost of `seconds` at `nanosPerHour`, rounded to the nano. */
export function costForSeconds(nanosPerHour: Nanos, seconds: number): Nanos {
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new RangeError(`seconds must be a non-negative integer, got ${seconds}`);
  return divRoundHalfUp(nanosPerHour * BigInt(seconds), 3600n);
}

/**
 * Splits `total` among parties in proportion to their non-negative integer weights so that the parts add up
 * to `total` exactly (largest-remainder method; ties go to the earlier party, which keeps results deterministic).
 * With all weights zero, everything goes to the last party: callers put the idle bucket last.
 * Weights are safe integers adding up to one; when total × sum of weights stays below 2^53 the arithmetic runs on exact
 * integer Numbers, which is several times faster than bigint, and falls back to bigint otherwise.
 */
export function apportion(total: Nanos, weights: readonly number[]): Nanos[] {
  if (total < 0n) throw new RangeError('cannot apportion a negative amount');
  const n = weights.length;
  if (n === 0) throw new RangeError('apportion needs at least one party');
  let sum = 0;
  let divisor = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    if (!(w >= 0) || !Number.isSafeInteger(w))
      throw new RangeError(`weights must be non-negative safe integers, got ${w}`);
    sum += w;
    divisor = gcd(divisor, w);
  }
  // Past 2^53 the sum is no longer exact, and neither would the shares be.
  if (!Number.isSafeInteger(sum)) throw new RangeError('weights must add up to a safe integer');
  const parts = new Array<bigint>(n);
  if (sum === 0) {
    parts.fill(0n);
    parts[n - 1] = total;
    return parts;
  }
  // Dividing every weight by their common divisor changes no share and keeps products small.
  sum /= divisor;
  const t = Number(total);
  if (Number.isSafeInteger(sum) && total <= BigInt(Number.MAX_SAFE_INTEGER) && t * sum <= Number.MAX_SAFE_INTEGER) {
    const shares = new Array<number>(n);
    const remainders = new Array<number>(n);
    let left = t;
    for (let i = 0; i < n; i++) {
      const product = t * ((weights[i] as number) / divisor);
      const q = floorDiv(product, sum);
      shares[i] = q;
      remainders[i] = product - q * sum;
      left -= q;
    }
    const extra = largestRemainders(remainders, left);
    for (let k = 0; k < extra.length; k++) {
      const i = extra[k] as number;
      shares[i] = (shares[i] as number) + 1;
    }
    for (let i = 0; i < n; i++) parts[i] = BigInt(shares[i] as number);
    return parts;
  }
  const bigSum = BigInt(sum);
  const bigDivisor = BigInt(divisor);
  const remainders = new Array<bigint>(n);
  let given = 0n;
  for (let i = 0; i < n; i++) {
    const product = total * (BigInt(weights[i] as number) / bigDivisor);
    const part = product / bigSum;
    parts[i] = part;
    remainders[i] = product % bigSum;
    given += part;
  }
  for (const i of largestRemainders(remainders, Number(total - given))) parts[i] = (parts[i] as bigint) + 1n;
  return parts;
}

let taken = new Uint8Array(64);

/** Indexes of the `count` (< number of parties) largest remainders, the earlier party first on ties. */
function largestRemainders(remainders: readonly number[] | readonly bigint[], count: number): number[] {
  const chosen: number[] = [];
  if (count <= 0) return chosen;
  // One scratch array for every call (apportion runs three times per node per cycle, synchronously).
  if (taken.length < remainders.length) taken = new Uint8Array(remainders.length * 2);
  taken.fill(0, 0, remainders.length);
  while (chosen.length < count) {
    let best = -1;
    for (let i = 0; i < remainders.length; i++) {
      if (taken[i] === 1) continue;
      if (best === -1 || (remainders[i] ?? 0) > (remainders[best] ?? 0)) best = i;
    }
    taken[best] = 1;
    chosen.push(best);
  }
  return chosen;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

/** Multiplies an amount by a decimal ratio given as a percentage string, e.g. applyPercent(x, "65") = 65 % of x. */
export function percentOf(nanos: Nanos, percent: string): Nanos {
  const p = parseMoney(percent); // percent in nano-units: "65" -> 65e9
  return divRoundHalfUp(nanos * p, 100n * NANOS_PER_UNIT);
}
