import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzzRuns, numberLikeText } from '../testing/fuzz.ts';
import {
  apportion,
  costForSeconds,
  divRoundHalfUp,
  formatMoney,
  mulDivRoundHalfUp,
  parseMoney,
  percentOf,
  mulDivToNumber,
} from './money.ts';

describe('parseMoney / formatMoney', () => {
  it.each([
    ['21.957642', 21_957_642_000n],
    ['0', 0n],
    ['0.000000001', 1n],
    ['1.5', 1_500_000_000n],
    ['-2.25', -2_250_000_000n],
  ])('parses %s exactly', (text, nanos) => {
    expect(parseMoney(text)).toBe(nanos);
  });

  it.each(['1e3', '1.0000000001', 'abc', '', '1,5', 'NaN', '.5'])('rejects %j', (text) => {
    expect(() => parseMoney(text)).toThrow(/not a decimal amount/);
  });

  it.each([
    [21_957_642_000n, 6, '21.957642'],
    [5_282_115_750n, 2, '5.28'],
    [5_285_000_000n, 2, '5.29'],
    [5_284_999_999n, 2, '5.28'],
    [1n, 6, '0.000000'],
    [-1_500_000_000n, 2, '-1.50'],
    [7n, 9, '0.000000007'],
    [3_000_000_000n, 0, '3'],
  ])('formats %s with %i decimals as %s', (nanos, digits, text) => {
    expect(formatMoney(nanos, digits)).toBe(text);
  });
});

describe('costForSeconds', () => {
  it('prorates an hourly price to the second, rounding to the nano', () => {
    expect(costForSeconds(parseMoney('21.957642'), 3600)).toBe(21_957_642_000n);
    expect(costForSeconds(parseMoney('21.957642'), 90 * 60)).toBe(32_936_463_000n);
    // 1.006 / 3600 = 0.000279444... per second
    expect(costForSeconds(parseMoney('1.006'), 1)).toBe(279_444n);
    expect(() => costForSeconds(1n, 1.5)).toThrow(RangeError);
  });
});

describe('mulDivRoundHalfUp', () => {
  it.each([
    [10n, 1, 3, 3n], // 3.33 rounds down
    [5n, 1, 2, 3n], // 2.5 rounds up
    [26_000_000_000n, 1, 8, 3_250_000_000n],
    [0n, 5, 7, 0n],
    // Products past 2^53 take the bigint path: 9e15 × 3 / 7.
    [9_000_000_000_000_000n, 3, 7, 3_857_142_857_142_857n],
    [10n ** 20n, 1, 3, 33_333_333_333_333_333_333n],
  ])('%s × %i / %i = %s', (amount, numerator, denominator, expected) => {
    expect(mulDivRoundHalfUp(amount, numerator, denominator)).toBe(expected);
  });

  it('leaves what is not a non-negative integer to bigint: negative amounts round as before, NaN is refused', () => {
    expect(mulDivRoundHalfUp(-5n, 1, 4)).toBe(divRoundHalfUp(-5n, 4n));
    expect(mulDivToNumber(1n, Number.NaN, 3)).toBeUndefined();
    expect(mulDivToNumber(1n, 3, 0)).toBeUndefined();
    expect(() => mulDivRoundHalfUp(1n, Number.NaN, 3)).toThrow(RangeError);
    expect(() => mulDivRoundHalfUp(1n, 1.5, 3)).toThrow(RangeError);
  });

  it('agrees with bigint arithmetic on both sides of 2^53', () => {
    fc.assert(
      fc.property(
        // Hourly prices (the Number path) and amounts far past 2^53 (the bigint path).
        fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.bigInt({ min: 0n, max: 10n ** 17n })),
        fc.integer({ min: 0, max: 2_000_000 }),
        fc.integer({ min: 1, max: 2_000_000 }),
        (amount, numerator, denominator) =>
          mulDivRoundHalfUp(amount, numerator, denominator) ===
          divRoundHalfUp(amount * BigInt(numerator), BigInt(denominator)),
      ),
      { numRuns: 2000 },
    );
  });
});

describe('percentOf', () => {
  it('takes a decimal percentage of an amount', () => {
    expect(percentOf(parseMoney('1.006'), '70')).toBe(parseMoney('0.7042'));
    expect(percentOf(parseMoney('10'), '12.5')).toBe(parseMoney('1.25'));
  });
});

describe('apportion', () => {
  it('splits by weight and gives the remainder to the largest fractions', () => {
    expect(apportion(10n, [1, 1, 1])).toEqual([4n, 3n, 3n]);
    expect(apportion(100n, [1, 3])).toEqual([25n, 75n]);
    expect(apportion(7n, [0, 0])).toEqual([0n, 7n]);
    // Large totals take the bigint path and must agree with the Number path's rule.
    expect(apportion(10n ** 18n + 1n, [1, 1])).toEqual([500_000_000_000_000_001n, 500_000_000_000_000_000n]);
  });

  it('always sums to the total and never goes negative', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2 ** 40 })), {
          minLength: 1,
          maxLength: 30,
        }),
        (total, weights) => {
          const parts = apportion(total, weights);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
          for (const p of parts) expect(p >= 0n).toBe(true);
          // No part is more than one nano away from its exact share.
          const sum = BigInt(weights.reduce((a, b) => a + b, 0));
          if (sum > 0n) {
            parts.forEach((p, i) => {
              const exact = (total * BigInt(weights[i] as number)) / sum;
              expect(p - exact >= 0n && p - exact <= 1n).toBe(true);
            });
          }
        },
      ),
    );
  });
});

describe('parseMoney on untrusted text (properties)', () => {
  it('returns an amount it formats back exactly, or throws an Error naming the text', () => {
    fc.assert(
      fc.property(numberLikeText, (text) => {
        let nanos: bigint;
        try {
          nanos = parseMoney(text);
        } catch (error) {
          expect(error).toBeInstanceOf(Error);
          expect((error as Error).message).toContain('is not a decimal amount');
          return;
        }
        expect(parseMoney(formatMoney(nanos, 9))).toBe(nanos);
      }),
      fuzzRuns(1000),
    );
  });

  it('reads back every amount of up to 15 whole digits that formatMoney writes with 9 decimals', () => {
    const max = 10n ** 24n - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min: -max, max }), (nanos) => {
        expect(parseMoney(formatMoney(nanos, 9))).toBe(nanos);
      }),
      fuzzRuns(1000),
    );
  });
});
