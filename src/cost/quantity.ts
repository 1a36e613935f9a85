/**
 * Kubernetes resource quantities ("500m", "16Gi", "1.5", "2e3") read as plain numbers of milli-units.
 * Resource amounts are not money, so Numbers are fine here; every value is rounded up to a whole milli-unit
 * the way the API server canonicalises quantities.
 */
const SUFFIX: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/;

/** Quantity in milli-units ("500m" -> 500, "2" -> 2000). Returns undefined for text that is not a quantity. */
export function parseMilli(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, number = '0', exponent, suffix = ''] = match;
  const base = Number(number);
  const factor = exponent ? 10 ** Number(exponent.slice(1)) : (SUFFIX[suffix] ?? 1);
  // "+ 0" turns the -0 that Math.ceil gives for "0" (and "-0.0000001") into 0.
  const milli = Math.ceil(base * factor * 1000 - 1e-6) + 0;
  return Number.isFinite(milli) && milli >= 0 ? milli : undefined;
}

/** Quantity in whole units, rounded up ("16Gi" -> 17179869184 bytes, "1500m" -> 2). */
export function parseUnits(text: string | undefined): number | undefined {
  const milli = parseMilli(text);
  return milli === undefined ? undefined : Math.ceil(milli / 1000);
}
