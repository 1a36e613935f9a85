/**
 * Settings for the property-based (fast-check) tests: a fixed seed, so a run is reproducible and a failure
 * reported with its seed and path replays exactly, and a number of runs chosen per property to keep the unit
 * tier fast.
 */
import fc from 'fast-check';

export const FUZZ_SEED = 19;

export function fuzzRuns(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns };
}

/**
 * Text a tenant could write where a number, amount, quantity or duration is expected: anything at all, and
 * near misses (signs, padding, exponents, suffixes, too many digits) that reach the parsers' edges.
 */
export const numberLikeText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[-+ ]?(\d{0,20}|0x1f)(\.\d{0,12})?([eE][-+]?\d{1,3})?(m|k|Ki|Gi|E|ms|s|h|d|1h30m)?\s?$/),
  fc.constantFrom('', ' ', 'NaN', 'Infinity', '-0', '1e308', '1'.padEnd(400, '0'), '.5', '5.', 'unknown'),
);
