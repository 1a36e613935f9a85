import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns, numberLikeText } from '../testing/fuzz.ts';
import { formatDuration, parseDuration } from './duration.ts';

describe('durations', () => {
  it('refuses digits enough to overflow (an annotation a tenant writes)', () => {
    expect(parseDuration(`1${'0'.repeat(400)}d`)).toBeUndefined();
    expect(parseDuration('99999999999999999999ms')).toBeUndefined();
    expect(parseDuration('104249991d')).toBe(104_249_991 * 86_400_000); // the largest safe count of days
    expect(parseDuration('104249992d')).toBeUndefined();
  });

  it('reads any text as a safe non-negative integer of ms or as nothing, and reads back what it formats (property)', () => {
    fc.assert(
      fc.property(numberLikeText, (text) => {
        const ms = parseDuration(text);
        if (ms !== undefined) expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
      }),
      fuzzRuns(1000),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      fuzzRuns(500),
    );
  });
});
