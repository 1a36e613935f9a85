import { describe, expect, it } from 'vitest';
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
