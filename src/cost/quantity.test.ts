import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzRuns, numberLikeText } from '../testing/fuzz.ts';
import { parseMilli, parseUnits } from './quantity.ts';

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

  it.each(['', 'abc', '1Q', '--1', '1.2.3'])('%j is not a quantity', (text) => {
    expect(parseMilli(text)).toBeUndefined();
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

  it('read any text as a finite non-negative integer of milli-units or as nothing', () => {
    fc.assert(
      fc.property(numberLikeText, (text) => {
        const milli = parseMilli(text);
        if (milli === undefined) return;
        expect(Number.isInteger(milli) && milli >= 0).toBe(true);
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
