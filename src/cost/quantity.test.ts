import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns, numberLikeText } from '../testing/fuzz.ts';
import { parseMilli, parseUnits, QuantityError } from './quantity.ts';

describe('Kubernetes quantities', () => {
  it.each([
    ['500m', 500],
    ['2', 2000],
    ['1.5', 1500],
    ['0.1', 100],
    ['16Gi', 16 * 2 ** 30 * 1000],
    ['1k', 1_000_000],
    ['2e3', 2_000_000],
    ['1M', 1e9],
  ])('%s is %d milli-units', (text, milli) => {
    expect(parseMilli(text)).toBe(milli);
  });

  it.each(['', 'abc', '1Q', '--1', '1.2.3', '5.', '.', '-1', '-1e999', 'e3'])('%j is not a quantity', (text) => {
    expect(parseMilli(text)).toBeUndefined();
  });

  it('refuses text of more than 128 characters as too large, before reading its digits', () => {
    expect(() => parseUnits(`1${'0'.repeat(3_000_000)}`)).toThrow(`quantity "1${'0'.repeat(23)}…" is more than`);
    expect(() => parseMilli(`${'0'.repeat(128)}1`)).toThrow(QuantityError);
    expect(parseMilli(`${'0'.repeat(127)}1`)).toBe(1000);
  });

  it('reads exactly, with no binary float on the way', () => {
    expect(parseMilli('0.1Gi')).toBe(107_374_182_400); // 0.1 × 2^30 × 1000, exactly
    expect(parseUnits('0.1Gi')).toBe(107_374_183); // 107374182.4 bytes, rounded up
    expect(parseMilli('1.000000001')).toBe(1001);
    expect(parseMilli('1e-70')).toBe(1);
    expect(parseUnits('24Ti')).toBe(24 * 2 ** 40);
    expect(parseUnits('4Pi')).toBe(4 * 2 ** 50);
    expect(parseMilli('9007199254740991m')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['1e30', 'units'],
    ['9007199254740992m', 'milli-units'],
    ['8Ei', 'units'],
    ['1'.padEnd(40, '0'), 'units'],
    ['1e99999999999', 'units'],
  ])('%s is too large to hold exactly: an error that says so, never a rounded float', (text, unit) => {
    const read = unit === 'units' ? parseUnits : parseMilli;
    expect(() => read(text)).toThrow(QuantityError);
    expect(() => read(text)).toThrow(/beyond exact integers/);
  });

  it('rounds whole units up', () => {
    expect(parseUnits('1500m')).toBe(2);
    expect(parseUnits('64Gi')).toBe(64 * 2 ** 30);
    expect(parseUnits(undefined)).toBeUndefined();
  });
});

describe('Kubernetes quantities (properties)', () => {
  it('read zero as 0, not -0', () => {
    for (const text of ['0', '0m', '-0', '-0.0000001', '0Gi']) expect(Object.is(parseMilli(text), 0), text).toBe(true);
  });

  it('read any text as an exact non-negative integer of milli-units, as nothing, or as a QuantityError', () => {
    fc.assert(
      fc.property(numberLikeText, (text) => {
        let milli: number | undefined;
        try {
          milli = parseMilli(text);
        } catch (error) {
          expect(error).toBeInstanceOf(QuantityError);
          return;
        }
        if (milli === undefined) return;
        expect(Number.isSafeInteger(milli) && milli >= 0).toBe(true);
        expect(parseUnits(text)).toBe(Math.ceil(milli / 1000));
      }),
      fuzzRuns(1000),
    );
  });

  it('read back whole counts with each suffix', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (n) => {
        expect(parseMilli(`${n}m`)).toBe(n);
        expect(parseMilli(String(n))).toBe(n * 1000);
        expect(parseMilli(`${n}Ki`)).toBe(n * 1024 * 1000);
        expect(parseMilli(`${n}e3`)).toBe(n * 1e6);
      }),
      fuzzRuns(300),
    );
  });
});
