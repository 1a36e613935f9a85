import { describe, expect, it } from 'vitest';
import { parseMoney } from '../cost/money.ts';
import { displayKey, parseLedger, renderAnnotations, type Ledger } from './annotations.ts';

const base: Ledger = {
  cost: parseMoney('12.3456789'),
  gpuSeconds: 7200,
  idleGpuSeconds: 1800,
  accountedUntil: Date.UTC(2026, 10, 23, 10, 0, 0) / 1000,
  currency: 'EUR',
};
const display = { costPerHour: parseMoney('4.5'), utilization: 0.42 };

describe('annotations', () => {
  it('render the ledger and read it back', () => {
    const a = renderAnnotations(base, display);
    expect(a).toEqual({
      'aicost.dev/cost': '12.345679',
      'aicost.dev/cost-per-hour': '4.5000',
      'aicost.dev/gpu-hours': '2.0000',
      'aicost.dev/idle-gpu-hours': '0.5000',
      'aicost.dev/gpu-utilization': '42',
      'aicost.dev/currency': 'EUR',
      'aicost.dev/accounted-until': '2026-11-23T10:00:00Z',
    });
    expect(parseLedger(a)).toEqual({ ...base, cost: parseMoney('12.345679'), spotSavings: undefined });
  });

  it('write aicost.dev/spot-savings only for objects that ran on spot, and read it back', () => {
    const a = renderAnnotations({ ...base, spotSavings: parseMoney('8.25') }, display);
    expect(a['aicost.dev/spot-savings']).toBe('8.250000');
    expect(parseLedger(a)?.spotSavings).toBe(parseMoney('8.25'));
    expect(parseLedger({ ...a, 'aicost.dev/spot-savings': 'lots' })?.spotSavings).toBeUndefined();
  });

  it('a savings change to the cent changes the display key', () => {
    const k = (s: string) => displayKey({ ...base, spotSavings: parseMoney(s) }, display);
    expect(k('1.001')).toBe(k('1.004'));
    expect(k('1.00')).not.toBe(k('1.01'));
  });
});
