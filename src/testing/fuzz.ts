/**
 * Settings for the property-based (fast-check) tests: a fixed seed, so a run is reproducible and a failure
 * reported with its seed and path replays exactly, and a number of runs chosen per property to keep the unit
 * tier fast.
 */
import type fc from 'fast-check';

export const FUZZ_SEED = 19;

export function fuzzRuns(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns };
}
