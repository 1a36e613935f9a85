import { describe, expect, it } from 'vitest';
import { SAMPLE_DISPLAY as display, SAMPLE_LEDGER as base } from '../testing/cost-fixtures.ts';
import { parseMoney } from '../cost/money.ts';
import { displayKey } from './annotations.ts';

describe('display key', () => {
  it('an idle GPU cost change to the cent changes the display key', () => {
    const k = (s: string | undefined) =>
      displayKey({ ...base, idleGpuCost: s === undefined ? undefined : parseMoney(s) }, display);
    expect(k('1.001')).toBe(k('1.004'));
    expect(k('1.00')).not.toBe(k('1.01'));
    expect(k(undefined)).not.toBe(k('0'));
  });

  it('a savings change to the cent changes the display key', () => {
    const k = (s: string) => displayKey({ ...base, spotSavings: parseMoney(s) }, display);
    expect(k('1.001')).toBe(k('1.004'));
    expect(k('1.00')).not.toBe(k('1.01'));
  });
});
